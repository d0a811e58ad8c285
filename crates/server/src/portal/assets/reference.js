// Filled in by the portal work on this page.
