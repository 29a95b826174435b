/**
 * Media Foundation's GUIDs and constants that the H.264 encoder uses (mfapi.h, mftransform.h,
 * mfobjects.h, mferror.h, codecapi.h, icodecapi.h, wtypes.h), each named as the SDK names it and checked
 * against mingw-w64's headers by test/win32/constants.test.ts (abi-constants.h prints them).
 */
import { guid } from './com.js';

// Categories, major types and subtypes (mfapi.h).
export const MFT_CATEGORY_VIDEO_ENCODER = guid('f79eac7d-e545-4387-bdee-d647d7bde42a');
export const MFT_CATEGORY_VIDEO_DECODER = guid('d6c02d4b-6833-45b4-971a-05a4b04bab91');
export const MFMediaType_Video = guid('73646976-0000-0010-8000-00aa00389b71');
/** FCC('H264') in the media-type base GUID. */
export const MFVideoFormat_H264 = guid('34363248-0000-0010-8000-00aa00389b71');
/** FCC('NV12') in the media-type base GUID. */
export const MFVideoFormat_NV12 = guid('3231564e-0000-0010-8000-00aa00389b71');

// Media-type attributes (mfapi.h).
export const MF_MT_MAJOR_TYPE = guid('48eba18e-f8c9-4687-bf11-0a74c9f96a8f');
export const MF_MT_SUBTYPE = guid('f7e34c9a-42e8-4714-b74b-cb29d72c35e5');
/** UINT64: width << 32 | height. */
export const MF_MT_FRAME_SIZE = guid('1652c33d-d6b2-4012-b834-72030849a37d');
/** UINT64: numerator << 32 | denominator. */
export const MF_MT_FRAME_RATE = guid('c459a2e8-3d2c-4e44-b132-fee5156c7bb0');
export const MF_MT_PIXEL_ASPECT_RATIO = guid('c6376a1e-8d0a-4027-be45-6d9a0ad39bb6');
export const MF_MT_INTERLACE_MODE = guid('e2724bb8-e676-4806-b4b2-a8d6efb44ccd');
export const MF_MT_AVG_BITRATE = guid('20332624-fb0d-4d9e-bd0d-cbf6786c102e');
/** The H.264 profile (eAVEncH264VProfile) of an encoder's output type. */
export const MF_MT_MPEG2_PROFILE = guid('ad76a80b-2d5c-4e0b-b375-64e520137036');
export const MF_MT_MPEG2_LEVEL = guid('96f66574-11c5-4015-8666-bff516436da7');
/** Blob: the SPS and PPS (Annex-B) an encoder's current output type carries. */
export const MF_MT_MPEG_SEQUENCE_HEADER = guid('3c036de7-3ad0-4c9e-9216-ee6d6ac21cb3');
export const MF_MT_DEFAULT_STRIDE = guid('644b4e48-1e02-4516-b0eb-c01ca9d49ac6');
export const MF_MT_YUV_MATRIX = guid('3e23d450-2c75-4d25-a00e-b91670d12327');
export const MF_MT_VIDEO_NOMINAL_RANGE = guid('c21b8ee5-b956-4071-8daf-325edf5cab11');
/** On the MFT's attributes (Windows 8+): the low-latency pipeline, same GUID as CODECAPI_AVLowLatencyMode. */
export const MF_LOW_LATENCY = guid('9c27891a-ed7a-40e1-88e8-b22727a024ee');
export const MFSampleExtension_CleanPoint = guid('9cdf01d8-a0f0-43ba-b077-eaa06cbd728a');

// Transform attributes (mftransform.h).
export const MF_TRANSFORM_ASYNC = guid('f81a699a-649a-497d-8c73-29f8fed6ad7a');
export const MF_TRANSFORM_ASYNC_UNLOCK = guid('e5666d6b-3422-4eb6-a421-da7db1f8e207');
export const MFT_FRIENDLY_NAME_Attribute = guid('314ffbae-5b41-4c95-9c19-4e7d586face3');
export const MFT_ENUM_HARDWARE_URL_Attribute = guid('2fb866ac-b078-4942-ab6c-003d05cda674');

// ICodecAPI properties (codecapi.h; `STATIC_CODECAPI_*` in C).
export const CODECAPI_AVEncCommonRateControlMode = guid('1c0608e9-370c-4710-8a58-cb6181c42423');
export const CODECAPI_AVEncCommonMeanBitRate = guid('f7222374-2144-4815-b550-a37f8e12ee52');
export const CODECAPI_AVEncCommonMaxBitRate = guid('9651eae4-39b9-4ebf-85ef-d7f444ec7465');
export const CODECAPI_AVLowLatencyMode = guid('9c27891a-ed7a-40e1-88e8-b22727a024ee');
export const CODECAPI_AVEncVideoForceKeyFrame = guid('398c1b98-8353-475a-9ef2-8f265d260345');
export const CODECAPI_AVEncMPVGOPSize = guid('95f31b26-95a4-41aa-9303-246a7fc6eef1');
export const CODECAPI_AVEncMPVDefaultBPictureCount = guid('8d390aac-dc5c-4200-b57f-814d04babab2');

// Interfaces.
export const IID_IMFTransform = guid('bf94c121-5b05-4e6f-8000-ba598961414d');
export const IID_IMFMediaEventGenerator = guid('2cd0bd52-bcd5-4b89-b62c-eadc0c031e7d');
export const IID_ICodecAPI = guid('901db4c7-31ce-41a2-85dc-8fa0bf41b8da');

/** MFStartup's version for the Windows 7+ SDK: MF_SDK_VERSION 2 << 16 | MF_API_VERSION 0x70. */
export const MF_VERSION = 0x0002_0070;
export const MFSTARTUP_FULL = 0;
export const COINIT_MULTITHREADED = 0;
/** QueryInterface's answer for an interface the object lacks (an MFT without ICodecAPI). */
export const E_NOINTERFACE = 0x80004002 | 0;
/** CoInitializeEx on a thread already in the other apartment: COM is usable, leave it as it is. */
export const RPC_E_CHANGED_MODE = 0x80010106 | 0;

/** MFTEnumEx flags. */
export const MFT_ENUM_FLAG = {
  SYNCMFT: 0x1,
  ASYNCMFT: 0x2,
  HARDWARE: 0x4,
  SORTANDFILTER: 0x40,
} as const;

/** MFT_OUTPUT_STREAM_INFO.dwFlags: the MFT allocates output samples itself. */
export const MFT_OUTPUT_STREAM = {
  PROVIDES_SAMPLES: 0x100,
  CAN_PROVIDE_SAMPLES: 0x200,
} as const;

/** MFT_MESSAGE_TYPE */
export const MFT_MESSAGE = {
  COMMAND_FLUSH: 0,
  COMMAND_DRAIN: 1,
  NOTIFY_BEGIN_STREAMING: 0x1000_0000,
  NOTIFY_END_STREAMING: 0x1000_0001,
  NOTIFY_END_OF_STREAM: 0x1000_0002,
  NOTIFY_START_OF_STREAM: 0x1000_0003,
} as const;

/** IMFMediaEventGenerator::GetEvent: return MF_E_NO_EVENTS_AVAILABLE instead of blocking. */
export const MF_EVENT_FLAG_NO_WAIT = 1;
// MediaEventType values an asynchronous MFT sends.
export const MEError = 1;
export const METransformNeedInput = 601;
export const METransformHaveOutput = 602;
export const METransformDrainComplete = 603;

/** HRESULTs of mferror.h, as koffi returns them (signed). */
export const MF_E = {
  INVALIDMEDIATYPE: 0xc00d36b4 | 0,
  NOTACCEPTING: 0xc00d36b5 | 0,
  NO_MORE_TYPES: 0xc00d36b9 | 0,
  ATTRIBUTENOTFOUND: 0xc00d36e6 | 0,
  NO_EVENTS_AVAILABLE: 0xc00d3e80 | 0,
  TRANSFORM_TYPE_NOT_SET: 0xc00d6d60 | 0,
  TRANSFORM_STREAM_CHANGE: 0xc00d6d61 | 0,
  TRANSFORM_NEED_MORE_INPUT: 0xc00d6d72 | 0,
} as const;

export const MFVideoInterlace_Progressive = 2;
export const MFVideoTransferMatrix_BT601 = 2;
export const MFNominalRange_16_235 = 2;
export const eAVEncCommonRateControlMode_CBR = 0;
/** eAVEncH264VProfile: the values are H.264's profile_idc, ConstrainedBase excepted. */
export const eAVEncH264VProfile = {
  Base: 66,
  Main: 77,
  High: 100,
  ConstrainedBase: 256,
} as const;

// VARIANT types for ICodecAPI::SetValue (wtypes.h).
export const VT_BOOL = 11;
export const VT_UI4 = 19;
export const VARIANT_TRUE = -1;
