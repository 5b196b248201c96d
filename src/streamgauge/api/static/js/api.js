// The query API client: every number on the page comes through these calls.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export class Api {
  constructor(key) {
    this.key = key;
  }

  headers(extra = {}) {
    return this.key ? { ...extra, Authorization: `Bearer ${this.key}` } : extra;
  }

  async request(method, path, body) {
    const init = { method, headers: this.headers({ Accept: "application/json" }) };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers["Content-Type"] = "application/json";
    }
    const response = await fetch(path, init);
    const payload = await response.json().catch(() => null);
    if (!response.ok) {
      const error = payload && payload.error ? payload.error : {};
      throw new ApiError(
        response.status,
        error.code || "http_error",
        error.message || `${method} ${path}: HTTP ${response.status}`,
      );
    }
    return payload;
  }

  /** `POST /query`: the rows of a JSON DSL query. */
  async query(body) {
    return (await this.request("POST", "/query", body)).data;
  }

  /** `POST /templates/{name}`: the rows of a named template. */
  async template(name, body) {
    return (await this.request("POST", `/templates/${encodeURIComponent(name)}`, body)).data;
  }

  async recent(body) {
    return (await this.request("POST", "/events/recent", body)).data;
  }

  async health() {
    return this.request("GET", "/ingestion/health");
  }

  async whoami() {
    return this.request("GET", "/whoami");
  }
}
