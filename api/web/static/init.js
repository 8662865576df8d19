// JavaScript only enhances: every page works without it.
import { initAll } from "/app/static/govuk-frontend.min.js";

initAll();
