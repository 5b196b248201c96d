"""Named templates: the seed's pre-built questions, each a module registering itself."""

from . import anomalies, journeys, people, traffic, usage
from .base import (
    ALIASES,
    REGISTRY,
    Template,
    TemplateInfo,
    get_template,
    list_templates,
    run_template,
)

__all__ = [
    "ALIASES",
    "REGISTRY",
    "Template",
    "TemplateInfo",
    "anomalies",
    "get_template",
    "journeys",
    "list_templates",
    "people",
    "run_template",
    "traffic",
    "usage",
]
