// `import VideoClassification` brings VideoIO's types (VideoFrame, VideoFrames, DecodeOptions,
// VideoIOError) and StopFlag with it: they are part of this module's API.
@_exported import VideoIO
@_exported import VidclassConcurrency
