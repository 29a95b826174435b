export * from './validate.js';
export * from './common.js';
export * from './api.js';
export * from './ipc.js';
export * from './datachannel.js';
export * from './api-version.js';
export * from './files.js';
export * from './chat.js';
