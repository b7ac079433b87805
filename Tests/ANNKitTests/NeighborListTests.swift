import ANNKit
import Testing

@Suite struct NeighborListTests {
    /// Three queries, k = 4; the last row is short and padded as ann-formats(5) says.
    static func sample(_ metric: Metric) -> NeighborList {
        let pad: Float = metric.isSimilarity ? -.infinity : .infinity
        return NeighborList(
            k: 4, metric: metric,
            ids: [7, 3, 9, 1, 0, 2, 4, 6, 5, 8, NeighborList.noID, NeighborList.noID],
            distances: [0.5, 1, 1, 2.25, 0, 0, 3, 4, 10, 11, pad, pad].map { metric.isSimilarity ? -$0 : $0 })
    }

    func write(_ list: NeighborList, to path: String, format: FileFormat) throws {
        let out = try OutputFile(path: path)
        try list.write(to: out, format: format)
        try out.commit()
    }

    @Test(arguments: Metric.allCases)
    func nativeRoundTrip(_ metric: Metric) throws {
        try withTemporaryDirectory { dir in
            let list = Self.sample(metric)
            try write(list, to: "\(dir)/gt.annn", format: .native)
            let back = try NeighborList.load("\(dir)/gt.annn")
            #expect(back.k == 4)
            #expect(back.count == 3)
            #expect(back.metric == metric)
            #expect(back.ids == list.ids)
            #expect(back.distances == list.distances)
            // One record per query: ids then distances (ann-formats(5), ANNN).
            let bytes = try readBytes("\(dir)/gt.annn")
            #expect(Array(bytes.prefix(32)) == Encode.header(magic: "ANNN", type: 0, metric: metric.code, dim: 4, count: 3))
            #expect(bytes.count == 32 + 3 * 32)
            #expect(Array(bytes[32..<48]) == [7, 3, 9, 1].flatMap { Encode.le(UInt32($0)) })
        }
    }

    /// TEXMEX and big-ann ground truths ship ids and distances as two files.
    @Test(arguments: [(FileFormat.ivecs, FileFormat.fvecs), (.ibin, .fbin)])
    func foreignIDsAndDistances(_ idForm: FileFormat, _ distanceForm: FileFormat) throws {
        try withTemporaryDirectory { dir in
            let list = NeighborList(k: 3, metric: .ip, ids: [5, 1, 2, 0, 3, 4], distances: [9, 8, 8, 7.5, 1, -2])
            let ids = "\(dir)/gt.\(idForm.rawValue)", dists = "\(dir)/gt.\(distanceForm.rawValue)"
            try write(list, to: ids, format: idForm)
            try write(list, to: dists, format: distanceForm)
            let back = try NeighborList.load(ids, distances: dists, metric: .ip)
            #expect(back.ids == list.ids)
            #expect(back.distances == list.distances)
            #expect(back.k == 3)
            #expect(back.metric == .ip)

            let idsOnly = try NeighborList.load(ids)
            #expect(idsOnly.ids == list.ids)
            #expect(idsOnly.distances.allSatisfy { $0.isNaN })
        }
    }

    /// A short row's padding (id -1, distance ±inf) must survive the two-file forms too: the
    /// distances file is distances, not vectors, so infinity is a legal value there.
    @Test(arguments: [(FileFormat.ivecs, FileFormat.fvecs), (.ibin, .fbin)])
    func paddedRowsSurviveForeignForms(_ idForm: FileFormat, _ distanceForm: FileFormat) throws {
        try withTemporaryDirectory { dir in
            let list = Self.sample(.l2)
            let ids = "\(dir)/gt.\(idForm.rawValue)", dists = "\(dir)/gt.\(distanceForm.rawValue)"
            try write(list, to: ids, format: idForm)
            try write(list, to: dists, format: distanceForm)
            // Padding ids are written as -1.
            #expect(Array(try readBytes(ids).suffix(4)) == Encode.le(Int32(-1)))
            #expect(try NeighborList.load(ids).ids == list.ids)
            let back = try NeighborList.load(ids, distances: dists, metric: .l2)
            #expect(back.ids == list.ids)
            #expect(back.distances == list.distances)
        }
    }

    @Test func foreignIDLayout() throws {
        try withTemporaryDirectory { dir in
            let list = NeighborList(k: 2, metric: .l2, ids: [1, 2, 3, 4], distances: [0, 1, 2, 3])
            try write(list, to: "\(dir)/gt.ivecs", format: .ivecs)
            try write(list, to: "\(dir)/gt.ibin", format: .ibin)
            let i32 = { (v: [Int32]) in v.flatMap { Encode.le($0) } }
            #expect(try readBytes("\(dir)/gt.ivecs") == i32([2, 1, 2, 2, 3, 4]))
            #expect(try readBytes("\(dir)/gt.ibin") == i32([2, 2, 1, 2, 3, 4]))
        }
    }

    @Test func refusesUint8Forms() throws {
        try withTemporaryDirectory { dir in
            let out = try OutputFile(path: "\(dir)/gt.bvecs")
            defer { out.discard() }
            #expect(annError { try Self.sample(.l2).write(to: out, format: .bvecs) }?.exitCode == 64)
        }
    }

    @Test func refusesVectorsAndMismatchedDistances() throws {
        try withTemporaryDirectory { dir in
            try writeNativeVectors([1, 2, 3, 4], dim: 4, to: "\(dir)/v.annv")
            let e = annError { _ = try NeighborList.load("\(dir)/v.annv") }
            #expect(e == .badData(source: "\(dir)/v.annv", message: "is vectors, not a neighbour list"))

            try write(Self.sample(.l2), to: "\(dir)/gt.ivecs", format: .ivecs)
            try writeBytes(Encode.fvecs([1, 2, 3], dim: 3), to: "\(dir)/d3.fvecs")
            #expect(annError { _ = try NeighborList.load("\(dir)/gt.ivecs", distances: "\(dir)/d3.fvecs") }?.exitCode == 65)
            try writeBytes(Encode.fvecs([1, 2, 3, 4], dim: 4), to: "\(dir)/d1.fvecs")
            #expect(annError { _ = try NeighborList.load("\(dir)/gt.ivecs", distances: "\(dir)/d1.fvecs") }?.exitCode == 65)
        }
    }

    @Test func refusesATruncatedNativeList() throws {
        try withTemporaryDirectory { dir in
            try write(Self.sample(.l2), to: "\(dir)/gt.annn", format: .native)
            try writeBytes(Array(try readBytes("\(dir)/gt.annn").dropLast(4)), to: "\(dir)/cut.annn")
            #expect(annError { _ = try NeighborList.load("\(dir)/cut.annn") }?.exitCode == 65)
        }
    }
}
