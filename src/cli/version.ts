/** porthole's version: what `porthole --version` prints and what an enrolling agent reports. */
export const PORTHOLE_VERSION = '0.1.0';
