from streamgauge.cli.main import cli

cli(prog_name="streamgauge")
