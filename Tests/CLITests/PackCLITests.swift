import ANNKit
import Foundation
import Testing

/// ann-pack on the bundled samples: the index holds what the clustering says, and does not
/// depend on how the base arrived or on the memory budget.
@Suite struct PackCLITests {
    @Test func packsSiftsmall() throws {
        let s = try Scratch()
        let base = try s.sample("siftsmall_base.fvecs")
        try s.setup("ann-kmeans", ["-k", "16", "--iters", "8", "--assignments", s.path("a.anna"), "-o", s.path("c.annv"), base])
        let r = try s.run("ann-pack", ["--centroids", "c.annv", "--assignments", "a.anna", "-o", s.output("i.anni"), base])
        expectSuccess(r)
        #expect(r.stdout.isEmpty)
        #expect(try s.outputs() == ["i.anni"])

        let idx = try PackedIndex(path: s.output("i.anni"))
        #expect(idx.dim == 128 && idx.elementType == .float32 && idx.metric == .l2)
        #expect(idx.vectorCount == 10_000 && idx.clusterCount == 16)
        #expect(idx.centroids == (try VectorReader(path: s.path("c.annv")).readAll()))
        let a = try Assignment.load(s.path("a.anna"))
        let m = members(a)
        #expect(idx.entries.map(\.vectors) == m.map(\.count))
        let data = try SampleData.vectors("siftsmall_base.fvecs").values
        let buffers = ClusterBuffers()
        for c in [0, 7, 15] {
            let n = try idx.fetch(c, into: buffers)
            let ids = Array(UnsafeBufferPointer(start: buffers.ids, count: n))
            #expect(ids == m[c].sorted(), "cluster \(c)")
            for (j, id) in ids.enumerated() where j % 50 == 0 {
                #expect(Array(UnsafeBufferPointer(start: buffers.floats + j * 128, count: 128)) == Array(data.row(Int(id), 128)))
            }
        }
    }

    /// The same inputs give the same index, byte for byte: spilled or not, from a file, from
    /// stdin, from the .zst original, to a file or to stdout.
    @Test func sameIndexWhateverMemoryOrInput() throws {
        let s = try Scratch()
        let f = try s.siftIndex()
        let reference = try readBytes(f.index)
        let common = ["--metric", "l2", "--centroids", f.centroids, "--assignments", f.assignments]
        // 10,000 vectors of 516 bytes: about 5 MiB, spilled several times with --memory 1.
        expectSuccess(try s.run("ann-pack", common + ["--memory", "1", "-o", s.output("spilled.anni"), f.base]))
        expectSuccess(try s.run("ann-pack", common + ["--from", "fvecs", "-o", s.output("stdin.anni")], stdin: f.base))
        expectSuccess(try s.run("ann-pack", common + ["-o", s.output("zst.anni"), "\(Package.data)/siftsmall_base.fvecs.zst"]))
        for name in ["spilled.anni", "stdin.anni", "zst.anni"] {
            #expect(try readBytes(s.output(name)) == reference, "\(name)")
        }
        let toStdout = try s.run("ann-pack", common + ["--memory", "2", f.base])
        expectSuccess(toStdout)
        #expect(toStdout.stdout == reference)
    }

    /// The spill file is made in $TMPDIR only when the vectors exceed --memory: a TMPDIR that
    /// does not exist fails the spilling run, cleanly, and not the other.
    @Test func spillFileGoesToTMPDIR() throws {
        let s = try Scratch()
        let f = try s.siftIndex()
        let args = ["--metric", "l2", "--centroids", f.centroids, "--assignments", f.assignments, "-o", s.output("i.anni"), f.base]
        let env = ["TMPDIR": s.path("no-such-dir")]
        try expectFailure(try s.run("ann-pack", ["--memory", "1"] + args, environment: env), tool: "ann-pack", status: 73,
                          mentioning: ["no-such-dir", "spill"], scratch: s)
        expectSuccess(try s.run("ann-pack", args, environment: env))
        #expect(try readBytes(s.output("i.anni")) == readBytes(f.index))
    }

    @Test func uint8BaseStaysUint8() throws {
        let s = try Scratch()
        let base = try s.sample("bigann10k_base.bvecs")
        try s.setup("ann-kmeans", ["-k", "10", "--iters", "4", "--assignments", s.path("a.ivecs"), "-o", s.path("c.fvecs"), base])
        expectSuccess(try s.run("ann-pack", ["--centroids", "c.fvecs", "--assignments", "a.ivecs", "--level", "9", "-o", s.output("u8.anni"), base]))
        let idx = try PackedIndex(path: s.output("u8.anni"))
        #expect(idx.elementType == .uint8 && idx.layout == .rows && idx.level == 9 && idx.metric == .l2)
        #expect(idx.vectorCount == 10_000)
        // Stored as bytes and compressed: well under the 132 bytes a vector takes raw.
        #expect(idx.storage.size < 10_000 * 132)
        let data = try SampleData.vectors("bigann10k_base.bvecs").values
        let got = try { () throws -> (ids: [UInt32], floats: [Float]) in
            let b = ClusterBuffers()
            let n = try idx.fetch(3, into: b)
            return (Array(UnsafeBufferPointer(start: b.ids, count: n)), Array(UnsafeBufferPointer(start: b.floats, count: n * 128)))
        }()
        #expect(got.ids == members(try Assignment.load(s.path("a.ivecs"))).map { $0.sorted() }[3])
        #expect(got.floats == got.ids.flatMap { data.row(Int($0), 128) })
    }

    /// Native centroids record their metric; .fvecs centroids take --metric; ip and cos
    /// centroids are stored at unit length. The metric is part of the clustering: an
    /// assignment made under l2 is refused for an index that would serve cos.
    @Test func metricComesWithTheCentroids() throws {
        let s = try Scratch()
        let base = try s.sample("siftsmall_base.fvecs")
        try s.setup("ann-kmeans", ["-k", "8", "--iters", "3", "--metric", "ip", "--assignments", s.path("a.anna"), "-o", s.path("c.annv"), base])
        try s.setup("ann-kmeans", ["-k", "8", "--iters", "3", "--assignments", s.path("l2.anna"), "-o", s.path("l2.fvecs"), base])
        try s.setup("ann-kmeans", ["-k", "8", "--iters", "3", "--metric", "cos", "--assignments", s.path("cos.anna"), "-o", s.path("cos.fvecs"), base])
        try expectFailure(try s.run("ann-pack", ["--metric", "cos", "--centroids", "l2.fvecs", "--assignments", "l2.anna", "-o", "out/x.anni", base]),
                          tool: "ann-pack", status: 65, mentioning: ["l2.anna", "another clustering"], scratch: s)
        expectSuccess(try s.run("ann-pack", ["--centroids", "c.annv", "--assignments", "a.anna", "-o", s.output("ip.anni"), base]))
        #expect(try PackedIndex(path: s.output("ip.anni")).metric == .ip)
        expectSuccess(try s.run("ann-pack", ["--metric", "cos", "--centroids", "cos.fvecs", "--assignments", "cos.anna", "-o", s.output("cos.anni"), base]))
        let cos = try PackedIndex(path: s.output("cos.anni"))
        #expect(cos.metric == .cos)
        for c in 0..<8 {
            let norm = cos.centroids[(c * 128)..<((c + 1) * 128)].reduce(0.0) { $0 + Double($1) * Double($1) }
            #expect(abs(norm - 1) < 1e-5)
        }
        expectSuccess(try s.run("ann-pack", ["--centroids", "l2.fvecs", "--assignments", "l2.anna", "-o", s.output("l2.anni"), base]))
        #expect(try PackedIndex(path: s.output("l2.anni")).metric == .l2)
    }

    /// An assignment made by hand with every vector in two clusters: stored twice, counted once.
    @Test func duplicatedVectorsAreStoredInEachCluster() throws {
        let s = try Scratch()
        let f = try s.siftIndex()
        let a = try Assignment.load(f.assignments)
        try s.write(twoClustersEach(a), to: "two.ivecs")
        expectSuccess(try s.run("ann-pack", ["--metric", "l2", "--centroids", f.centroids, "--assignments", "two.ivecs", "-o", s.output("i.anni"), f.base]))
        let idx = try PackedIndex(path: s.output("i.anni"))
        #expect(idx.vectorCount == 10_000)
        #expect(idx.entries.reduce(0) { $0 + $1.vectors } == 20_000)
        let m = members(a)
        for c in 0..<16 { #expect(idx.entries[c].vectors == m[c].count + m[(c + 15) % 16].count, "cluster \(c)") }
    }
}

/// An .ivecs assignment encoded by hand: each vector in its home cluster, then in the next one.
func twoClustersEach(_ a: Assignment) -> [UInt8] {
    var out = [UInt8]()
    for i in 0..<a.pairCount {
        let home = Int32(a.clusters[i])
        out += Encode.le(Int32(2)) + Encode.le(home) + Encode.le((home + 1) % Int32(a.clusterCount))
    }
    return out
}
