//! The flow runner's place in the URL space. The runner itself is a
//! script (`assets/flows.js`): it builds each request in the browser,
//! sends it to this server and shows the raw exchange. The page is also a
//! redirect URI (the portal registers it on the sandbox's clients), so a
//! code flow comes back to the runner.

pub const PATH: &str = "/portal/flows";
