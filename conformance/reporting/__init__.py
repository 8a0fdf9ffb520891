"""Reports of a run: results.json (dxconform-results/2), the terminal summary, report.html fragments, curl."""
