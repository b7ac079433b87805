import ANNKit
import Testing
import TestSupport

/// Training samples: read by position from a file, uniform, in input order, the same from every
/// file form, and checked as a sequential read checks.
@Suite struct SamplerTests {
    static let dim = 4

    /// Record i holds i in every coordinate, so a sampled row says which record it is.
    static func records(_ n: Int) -> [Float] { (0..<n).flatMap { i in [Float](repeating: Float(i), count: dim) } }

    func picks(_ s: Sampler.Sample) -> [Int] { (0..<s.count).map { Int(s.data[$0 * Self.dim]) } }

    @Test func aFileIsSampledByPositionTheSameInEveryForm() throws {
        try withTemporaryDirectory { dir in
            let v = Self.records(1000)
            try writeBytes(Encode.fvecs(v, dim: Self.dim), to: "\(dir)/a.fvecs")
            try writeBytes(Encode.fbin(v, dim: Self.dim), to: "\(dir)/a.fbin")
            let a = try Sampler.read(try VectorReader(path: "\(dir)/a.fvecs"), size: 100, seed: 7)
            let b = try Sampler.read(try VectorReader(path: "\(dir)/a.fbin"), size: 100, seed: 7)
            #expect(a.count == 100 && a.total == 1000 && a.data == b.data)
            let p = picks(a)
            #expect(zip(p, p.dropFirst()).allSatisfy { $0 < $1 }, "distinct records in input order")
            for (row, record) in p.enumerated() { #expect(Array(a.data[(row * Self.dim)..<((row + 1) * Self.dim)]) == Array(v[(record * Self.dim)..<((record + 1) * Self.dim)])) }
            #expect(try Sampler.read(try VectorReader(path: "\(dir)/a.fvecs"), size: 100, seed: 7).data == a.data)
            #expect(try Sampler.read(try VectorReader(path: "\(dir)/a.fvecs"), size: 100, seed: 8).data != a.data)
        }
    }

    /// Every record is as likely as any other: over 2,000 seeds, 10 of 50 records each time, each
    /// record is drawn about 400 times (a binomial's standard deviation is 18).
    @Test func everyRecordIsEquallyLikely() throws {
        try withTemporaryDirectory { dir in
            try writeBytes(Encode.fbin(Self.records(50), dim: Self.dim), to: "\(dir)/a.fbin")
            var hits = [Int](repeating: 0, count: 50)
            for seed in 0..<2000 {
                for r in picks(try Sampler.read(try VectorReader(path: "\(dir)/a.fbin"), size: 10, seed: UInt64(seed))) { hits[r] += 1 }
            }
            #expect(hits.allSatisfy { (310...490).contains($0) }, "\(hits)")
        }
    }

    /// A sampled record is checked as a sequential read checks it.
    @Test func aDamagedSampledRecordIsRefused() throws {
        try withTemporaryDirectory { dir in
            var v = Self.records(20)
            for i in 0..<v.count where i / Self.dim != 3 { v[i] = .nan }
            try writeBytes(Encode.fbin(v, dim: Self.dim), to: "\(dir)/a.fbin")
            let e = annError { _ = try Sampler.read(try VectorReader(path: "\(dir)/a.fbin"), size: 5, seed: 1) }
            #expect(e?.description.contains("is NaN") == true, "\(String(describing: e))")
        }
    }
}
