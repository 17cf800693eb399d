// Starts Swagger UI on the service's own OpenAPI document. A file of its own, not an inline
// script, so the page's Content-Security-Policy can allow scripts from 'self' only.
window.addEventListener("load", function () {
  "use strict";
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null, // the badge would call an outside validator
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
