/**
 * The API server's defaults, apart from server.ts so that `porthole api serve --help` can name them
 * without loading the server (every process that runs the CLI, the service too, loads that help).
 */
export const DEFAULT_PORT = 8443;
export const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;
