import CZstd

/// The only door to libzstd: one-shot frames for packed clusters, and a streaming decoder
/// so that every tool reads `.zst` inputs directly.
public enum Zstd {
    /// The four bytes that start a zstd frame.
    public static let frameMagic: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]

    public static let maxLevel = Int(ZSTD_maxCLevel())

    /// Compresses `src` as one independent frame with its content size and checksum.
    public static func compress(_ src: UnsafeRawBufferPointer, level: Int, into dst: inout [UInt8]) throws {
        let bound = ZSTD_compressBound(src.count)
        if dst.count < bound { dst = [UInt8](repeating: 0, count: bound) }
        guard let cctx = ZSTD_createCCtx() else { throw ANNError.io(target: "zstd", message: "out of memory") }
        defer { ZSTD_freeCCtx(cctx) }
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, Int32(level))
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)
        let n = dst.withUnsafeMutableBytes { d in
            ZSTD_compress2(cctx, d.baseAddress, d.count, src.baseAddress, src.count)
        }
        if ZSTD_isError(n) != 0 { throw ANNError.io(target: "zstd", message: String(cString: ZSTD_getErrorName(n))) }
        dst.removeSubrange(n...)
    }

    /// Decompresses one whole frame into exactly `dst.count` bytes; anything else is corrupt.
    public static func decompress(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer, source: String) throws {
        let n = ZSTD_decompress(dst.baseAddress, dst.count, src.baseAddress, src.count)
        if ZSTD_isError(n) != 0 {
            throw ANNError.badData(source: source, message: "corrupt zstd frame: \(String(cString: ZSTD_getErrorName(n)))")
        }
        guard n == dst.count else {
            throw ANNError.badData(source: source, message: "zstd frame holds \(n) bytes, expected \(dst.count)")
        }
    }

    /// Decompresses single frames held whole in memory into a buffer that grows only as output
    /// actually arrives, so a frame's size is never taken from a claim (the frame's own header or a
    /// directory) before the bytes exist. One per thread; reused across frames.
    public final class FrameDecoder {
        private let dctx: OpaquePointer
        /// Where output beyond the expected size lands, only to be refused.
        private let spare = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)

        public init() throws {
            guard let d = ZSTD_createDCtx() else { throw ANNError.io(target: "zstd", message: "out of memory") }
            dctx = d
        }

        deinit {
            ZSTD_freeDCtx(dctx)
            spare.deallocate()
        }

        /// Decompresses the one frame that is all of `src`, whose content must be exactly
        /// `expected` bytes, into `buffer` from its start. `buffer` is replaced by a larger one
        /// (its bytes kept) when output outgrows it, never beyond `expected`. Refuses a corrupt,
        /// short or long frame and any bytes after the frame; `source` names it in errors.
        public func decompress(_ src: UnsafeRawBufferPointer, expected: Int, into buffer: inout UnsafeMutableRawBufferPointer,
                               source: String) throws {
            func bad(_ m: String) -> ANNError { .badData(source: source, message: m) }
            ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only)
            var inb = ZSTD_inBuffer(src: src.baseAddress, size: src.count, pos: 0)
            var produced = 0
            while true {
                if produced == buffer.count && produced < expected {
                    let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: min(expected, max(1 << 16, 2 * buffer.count)), alignment: 64)
                    if produced > 0 { grown.baseAddress!.copyMemory(from: buffer.baseAddress!, byteCount: produced) }
                    buffer.deallocate()
                    buffer = grown
                }
                var outb: ZSTD_outBuffer
                if produced < expected {
                    outb = ZSTD_outBuffer(dst: buffer.baseAddress! + produced, size: min(buffer.count, expected) - produced, pos: 0)
                } else {
                    outb = ZSTD_outBuffer(dst: spare.baseAddress, size: spare.count, pos: 0)
                }
                let before = inb.pos
                let r = ZSTD_decompressStream(dctx, &outb, &inb)
                if ZSTD_isError(r) != 0 { throw bad("corrupt zstd frame: \(String(cString: ZSTD_getErrorName(r)))") }
                if produced >= expected && outb.pos > 0 { throw bad("zstd frame holds more than the \(expected) bytes expected") }
                produced += outb.pos
                if r == 0 {
                    guard inb.pos == inb.size else { throw bad("\(inb.size - inb.pos) bytes after the end of the zstd frame") }
                    guard produced == expected else { throw bad("zstd frame holds \(produced) bytes, expected \(expected)") }
                    return
                }
                if inb.pos == inb.size && inb.pos == before && outb.pos == 0 && outb.pos < outb.size {
                    throw bad("truncated zstd frame (\(produced) of \(expected) bytes)")
                }
            }
        }
    }

    /// A `ByteSource` that decompresses another, frame after frame, as zstd(1) does.
    public final class Decoder: ByteSource {
        public let name: String
        private let inner: ByteSource
        private let dctx: OpaquePointer
        private var input: UnsafeMutableRawBufferPointer
        private var inPos = 0
        private var inEnd = 0
        private var innerDone = false
        private var midFrame = false

        public init(_ inner: ByteSource) throws {
            self.inner = inner
            name = inner.name
            guard let d = ZSTD_createDCtx() else { throw ANNError.io(target: inner.name, message: "out of memory") }
            dctx = d
            input = .allocate(byteCount: ZSTD_DStreamInSize(), alignment: 16)
        }

        deinit {
            ZSTD_freeDCtx(dctx)
            input.deallocate()
        }

        public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            guard buffer.count > 0 else { return 0 }
            while true {
                if inPos == inEnd && !innerDone {
                    inEnd = try inner.read(into: input)
                    inPos = 0
                    if inEnd == 0 { innerDone = true }
                }
                if inPos == inEnd && innerDone {
                    if midFrame { throw ANNError.badData(source: name, message: "truncated zstd frame") }
                    return 0
                }
                var inb = ZSTD_inBuffer(src: input.baseAddress! + inPos, size: inEnd - inPos, pos: 0)
                var outb = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
                let r = ZSTD_decompressStream(dctx, &outb, &inb)
                if ZSTD_isError(r) != 0 {
                    throw ANNError.badData(source: name, message: "corrupt zstd frame: \(String(cString: ZSTD_getErrorName(r)))")
                }
                inPos += inb.pos
                midFrame = r != 0
                if outb.pos > 0 { return outb.pos }
            }
        }
    }
}
