import ANNKit
import Foundation
import Testing

/// Every input may be zstd-compressed; its form then comes from the name without `.zst`.
@Suite struct ZstdInputTests {
    func compressed(_ bytes: [UInt8]) throws -> [UInt8] {
        var out = [UInt8]()
        try bytes.withUnsafeBytes { try Zstd.compress($0, level: 3, into: &out) }
        return out
    }

    @Test func compressAndDecompressAreInverse() throws {
        let data = Encode.floats((0..<1000).map { Float($0) })
        let frame = try compressed(data)
        #expect(Array(frame.prefix(4)) == Zstd.frameMagic)
        var back = [UInt8](repeating: 0, count: data.count)
        try frame.withUnsafeBytes { src in
            try back.withUnsafeMutableBytes { try Zstd.decompress(src, into: $0, source: "t") }
        }
        #expect(back == data)
        // A frame is refused when it does not hold exactly the expected size.
        var short = [UInt8](repeating: 0, count: data.count - 1)
        let e = annError {
            try frame.withUnsafeBytes { src in try short.withUnsafeMutableBytes { try Zstd.decompress(src, into: $0, source: "t") } }
        }
        #expect(e?.exitCode == 65)
    }

    @Test(arguments: [("v.fvecs.zst", FileFormat.fvecs), ("v.fbin.zst", .fbin), ("v.annv.zst", .native)])
    func readsACompressedFile(_ name: String, _ format: FileFormat) throws {
        let values = (0..<(50 * 8)).map { Float($0) / 8 }
        let plain: [UInt8]
        switch format {
        case .fvecs: plain = Encode.fvecs(values, dim: 8)
        case .fbin: plain = Encode.fbin(values, dim: 8)
        default: plain = Encode.header(dim: 8, count: 50) + Encode.floats(values)
        }
        try withTemporaryDirectory { dir in
            try writeBytes(try compressed(plain), to: "\(dir)/\(name)")
            let r = try VectorReader(path: "\(dir)/\(name)")
            #expect(r.input.format == format)
            #expect(r.dim == 8)
            #expect(try r.readAll() == values)
        }
    }

    /// Larger than the reader's 1 MiB buffer, in several frames, as zstd(1) may write them.
    @Test func readsALargeMultiFrameFile() throws {
        let values = (0..<(3000 * 128)).map { Float($0 % 251) }
        let plain = Encode.fvecs(values, dim: 128)
        let half = plain.count / 2
        try withTemporaryDirectory { dir in
            try writeBytes(try compressed(Array(plain[..<half])) + (try compressed(Array(plain[half...]))), to: "\(dir)/big.fvecs.zst")
            #expect(try VectorReader(path: "\(dir)/big.fvecs.zst").readAll() == values)
        }
    }

    /// The bundled sample ships compressed; its header facts are known.
    @Test func readsTheBundledSample() throws {
        let r = try VectorReader(path: SampleData.path("siftsmall_query.fvecs.zst"))
        #expect(r.dim == 128)
        #expect(r.elementType == .float32)
        let all = try r.readAll()
        #expect(all == (try SampleData.siftQueries().values))
        let b = try VectorReader(path: SampleData.path("bigann10k_base.bvecs.zst"))
        #expect(b.elementType == .uint8)
        #expect(try b.readAll().count == 10_000 * 128)
    }

    @Test func refusesACorruptFrame() throws {
        var frame = try compressed(Encode.fvecs((0..<(2000 * 16)).map { Float($0) }, dim: 16))
        for i in (frame.count / 2)..<(frame.count / 2 + 32) { frame[i] ^= 0xFF }
        try withTemporaryDirectory { dir in
            try writeBytes(frame, to: "\(dir)/bad.fvecs.zst")
            #expect(annError { _ = try VectorReader(path: "\(dir)/bad.fvecs.zst").readAll() }?.exitCode == 65)
        }
    }

    @Test func refusesATruncatedFrame() throws {
        let frame = try compressed(Encode.fvecs((0..<(2000 * 16)).map { Float($0) }, dim: 16))
        try withTemporaryDirectory { dir in
            try writeBytes(Array(frame.prefix(frame.count - 100)), to: "\(dir)/cut.fvecs.zst")
            #expect(annError { _ = try VectorReader(path: "\(dir)/cut.fvecs.zst").readAll() }?.exitCode == 65)
        }
    }
}
