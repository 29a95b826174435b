/** The authenticated, framed message channel between the service and its helpers. */
export { Channel } from './channel.js';
export { CHANNEL_DEFAULTS, type ChannelOptions, type RateLimit } from './channel-options.js';
export {
  BackpressureError,
  ChannelClosedError,
  FrameError,
  HandshakeError,
  IPC_ERROR_CODES,
  IpcError,
  MessageTooLargeError,
  RequestError,
  RequestTimeoutError,
  TooManyRequestsError,
  type CloseCode,
  type CloseReason,
  type FrameRejection,
  type HandshakeFailure,
  type IpcErrorCode,
} from './errors.js';
export { DEFAULT_MAX_FRAME_BYTES } from './frame.js';
export { DEFAULT_HANDSHAKE_TIMEOUT_MS, HELPER_ID_PATTERN, MIN_SECRET_BYTES } from './handshake.js';
export {
  HELPER_STDIO,
  INHERITED_CHANNEL_FD,
  acceptHelperChannel,
  acceptInheritedChannel,
  connectHelperChannel,
  connectInheritedChannel,
  type InheritedChannelOptions,
} from './inherited.js';
export { generateSecret, readSecretFromStdin, writeSecretToStdin, type SecretEncoding } from './secret.js';
export {
  DEFAULT_MAX_CONNECTIONS,
  IpcServer,
  connectIpc,
  type ConnectIpcOptions,
  type IpcServerOptions,
} from './transport.js';
export type { SocketOwner } from './unix-socket-path.js';
