"""Reports of a run: results.json (dxconform-results/1), the terminal summary, report.html fragments, curl."""
