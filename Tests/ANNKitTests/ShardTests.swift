import ANNKit
import Testing
import TestSupport

/// Slices of an input: they cover every record once, in order, and a reader narrowed to one
/// delivers exactly its records, with their ids in the whole input, from every form that has
/// fixed-size records.
@Suite struct ShardTests {
    @Test func slicesCoverEveryRecordOnceInOrder() throws {
        for total in [0, 1, 7, 10, 1000, 1_000_003] {
            for n in [1, 2, 3, 7, 16] {
                let ranges = try (0..<n).map { try Shard(index: $0, count: n).records(of: total) }
                #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == total)
                for (a, b) in zip(ranges, ranges.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
                #expect(ranges.map(\.count).max()! - ranges.map(\.count).min()! <= 1)
            }
        }
        #expect(try Shard(parsing: "2/5") == Shard(index: 2, count: 5))
        for bad in ["5/5", "-1/3", "1", "a/b", "1/0", "1/2/3", ""] { #expect(throws: ANNError.self, "\(bad)") { try Shard(parsing: bad) } }
    }

    @Test(arguments: ["fvecs", "fbin", "annv"])
    func aNarrowedReaderDeliversItsSliceOnly(_ form: String) throws {
        let all = try SampleData.siftBase()
        let rows = 101, d = all.dim
        let values = Array(all.values.prefix(rows * d))
        try withTemporaryDirectory { dir in
            let path = "\(dir)/b.\(form)"
            let out = try OutputFile(path: path)
            let w = try VectorWriter(output: out, format: FileFormat(rawValue: form == "annv" ? "native" : form)!, dim: d, elementType: .float32, count: rows)
            try w.write(values)
            try w.finish()
            try out.commit()
            var joined = [Float]()
            for i in 0..<4 {
                let r = try VectorReader(path: path)
                try r.restrict(to: try Shard(index: i, count: 4))
                let slice = try Shard(index: i, count: 4).records(of: rows)
                #expect(r.firstID == slice.lowerBound && r.count == slice.count)
                let got = try r.readAll()
                #expect(got == Array(values[(slice.lowerBound * d)..<(slice.upperBound * d)]), "shard \(i) of .\(form)")
                joined += got
            }
            #expect(joined == values)
        }
    }
}
