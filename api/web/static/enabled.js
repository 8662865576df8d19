// Marks the page as having JavaScript before it renders, as GOV.UK Frontend expects (a file, not inline: the
// pages' Content-Security-Policy allows no inline script).
document.body.className += " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
