// ESLint for the pages' JavaScript (`make lint`). The client's modules run in the browser
// as they are (no build step); the data modules (static/js/data/) run in node's test
// runner too, so they may use neither the DOM nor the modules around them.

import js from "@eslint/js";
import globals from "globals";

const CLIENT = "soporte_frontend/static/js";

export default [
  { ignores: ["node_modules/", "soporte_frontend/static/vendor/"] },
  js.configs.recommended,
  {
    files: [`${CLIENT}/**/*.js`],
    languageOptions: { ecmaVersion: 2022, sourceType: "module" },
    rules: {
      eqeqeq: "error",
      "no-var": "error",
      "prefer-const": "error",
      "no-implicit-globals": "error",
    },
  },
  {
    files: [`${CLIENT}/**/*.js`],
    ignores: [`${CLIENT}/data/**`],
    // `io` is the vendored socket.io client, loaded by its own script tag.
    languageOptions: { globals: { ...globals.browser, io: "readonly" } },
  },
  {
    files: [`${CLIENT}/data/**/*.js`],
    languageOptions: { globals: { setTimeout: "readonly", clearTimeout: "readonly", crypto: "readonly" } },
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ group: ["../*"], message: "Data modules import only one another (no DOM, no contract.js)." }] },
      ],
    },
  },
  {
    // The widget's loader runs on other companies' pages as a classic script (no modules).
    files: ["soporte_frontend/static/loader/*.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "script", globals: globals.browser },
    rules: { eqeqeq: "error", "no-var": "error", "prefer-const": "error" },
  },
  {
    files: ["tests/js/**/*.mjs", "eslint.config.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: globals.node },
  },
];
