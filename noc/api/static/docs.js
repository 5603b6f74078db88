// /api/docs: Swagger UI over the app's own OpenAPI document. A file of its own, not an inline script, so the
// page keeps the strict Content-Security-Policy; no validator badge (it would call the internet).
window.addEventListener("DOMContentLoaded", function () {
  window.SwaggerUIBundle({
    url: "/api/openapi.json",
    dom_id: "#swagger-ui",
    validatorUrl: null,
    deepLinking: true,
    tryItOutEnabled: false,
  });
});
