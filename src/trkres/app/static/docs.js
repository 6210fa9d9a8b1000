// The API docs page: Swagger UI from the installed swagger-ui-bundle (no network).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  if (typeof SwaggerUIBundle !== "function") return;
  const csrf = () => {
    const m = document.cookie.match(/(?:^|;\s*)trkres_csrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  };
  SwaggerUIBundle({
    url: "/docs/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // "Try it out" from this page is a browser request: it carries the CSRF token.
    requestInterceptor: (request) => { request.headers["X-CSRF-Token"] = csrf(); return request; },
  });
});
