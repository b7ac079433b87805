import ANNKit
import Foundation
import Testing

/// ann-kmeans on the bundled samples: structure and invariants of what it writes.
@Suite struct KMeansCLITests {
    @Test func clustersSiftsmallWithAssignments() throws {
        let s = try Scratch()
        let input = try s.sample("siftsmall_base.fvecs")
        let r = try s.run("ann-kmeans", ["-k", "64", "-o", s.output("c.annv"), "--assignments", s.output("a.anna"), input])
        expectSuccess(r)
        #expect(r.stdout.isEmpty)

        let c = try VectorReader(path: s.output("c.annv"))
        #expect(c.dim == 128 && c.count == 64 && c.elementType == .float32 && c.metric == .l2)
        let centroids = try c.readAll()
        #expect(centroids.count == 64 * 128)

        let a = try Assignment.load(s.output("a.anna"))
        #expect(a.clusterCount == 64)
        #expect(a.pairCount == 10_000)
        #expect(a.vectors == (0..<10_000).map(UInt32.init))
        var sizes = [Int](repeating: 0, count: 64)
        for cl in a.clusters { sizes[Int(cl)] += 1 }
        #expect(sizes.allSatisfy { $0 > 0 }, "empty clusters: \(sizes.indices.filter { sizes[$0] == 0 })")

        // Each vector's cluster is its nearest centroid (up to float rounding of the centroids).
        let data = try SampleData.vectors("siftsmall_base.fvecs").values
        for i in stride(from: 0, to: 10_000, by: 37) {
            let all = (0..<64).map { squaredDistance(data.row(i, 128), centroids.row($0, 128)) }
            let best = all.min()!
            #expect(all[Int(a.clusters[i])] <= best * (1 + 1e-5), "vector \(i)")
        }
    }

    @Test func sameSeedGivesIdenticalFiles() throws {
        let s = try Scratch()
        let input = try s.sample("siftsmall_base.fvecs")
        for (name, seed) in [("a", "5"), ("b", "5"), ("c", "6")] {
            expectSuccess(try s.run("ann-kmeans", ["-k", "64", "--seed", seed, "-o", s.output("\(name).annv"),
                                                   "--assignments", s.output("\(name).anna"), input]))
        }
        #expect(try readBytes(s.output("a.annv")) == readBytes(s.output("b.annv")))
        #expect(try readBytes(s.output("a.anna")) == readBytes(s.output("b.anna")))
        #expect(try VectorReader(path: s.output("a.annv")).readAll() != VectorReader(path: s.output("c.annv")).readAll())
    }

    /// Stdin needs --from; with --sample and --assignments the tool reads stdin twice (through
    /// a temporary copy), which must give what the same run on the file gives.
    @Test func readsStdin() throws {
        let s = try Scratch()
        let input = try s.sample("siftsmall_base.fvecs")
        expectSuccess(try s.run("ann-kmeans", ["-k", "16", "--iters", "4", "-o", s.output("file.annv"), input]))
        expectSuccess(try s.run("ann-kmeans", ["-k", "16", "--iters", "4", "-o", s.output("stdin.annv"), "--from", "fvecs"], stdin: input))
        #expect(try VectorReader(path: s.output("stdin.annv")).readAll() == VectorReader(path: s.output("file.annv")).readAll())

        let sampled = ["-k", "16", "--iters", "4", "--sample", "3000"]
        expectSuccess(try s.run("ann-kmeans", sampled + ["-o", s.output("f.annv"), "--assignments", s.output("f.ivecs"), input]))
        expectSuccess(try s.run("ann-kmeans", sampled + ["-o", s.output("s.annv"), "--assignments", s.output("s.ivecs"), "--from", "fvecs"],
                                stdin: input))
        let fromFile = try Assignment.load(s.output("f.ivecs")), fromStdin = try Assignment.load(s.output("s.ivecs"))
        #expect(fromStdin.pairCount == 10_000)
        #expect(fromStdin.clusters == fromFile.clusters)
        #expect(try VectorReader(path: s.output("s.annv")).readAll() == VectorReader(path: s.output("f.annv")).readAll())

        // Centroids on stdout.
        let r = try s.run("ann-kmeans", ["-k", "16", "--iters", "4", "--to", "fvecs", input])
        expectSuccess(r)
        #expect(r.stdout.count == 16 * (4 + 128 * 4))
    }

    /// The output forms: centroids as .fvecs/.fbin, assignments as .ivecs/.ibin.
    @Test func writesEveryOutputForm() throws {
        let s = try Scratch()
        let input = try s.sample("bigann10k_base.bvecs")
        let common = ["-k", "20", "--iters", "4", "--seed", "3"]
        expectSuccess(try s.run("ann-kmeans", common + ["-o", s.output("c.fvecs"), "--assignments", s.output("a.ivecs"), input]))
        expectSuccess(try s.run("ann-kmeans", common + ["-o", s.output("c.fbin"), "--assignments", s.output("a.ibin"), input]))
        expectSuccess(try s.run("ann-kmeans", common + ["-o", s.output("c.annv"), "--assignments", s.output("a.anna"), input]))
        let native = try VectorReader(path: s.output("c.annv")).readAll()
        for name in ["c.fvecs", "c.fbin"] {
            let r = try VectorReader(path: s.output(name))
            // uint8 input, float32 centroids.
            #expect(r.elementType == .float32 && r.dim == 128 && r.count == 20, "\(name)")
            #expect(try r.readAll() == native, "\(name)")
        }
        let assigned = try Assignment.load(s.output("a.anna"))
        #expect(assigned.pairCount == 10_000)
        for name in ["a.ivecs", "a.ibin"] {
            let a = try Assignment.load(s.output(name))
            #expect(a.vectors == assigned.vectors && a.clusters == assigned.clusters, "\(name)")
        }
        // .ivecs: one record of one cluster per vector.
        #expect(try readBytes(s.output("a.ivecs")).count == 10_000 * 8)
    }

    @Test(arguments: [Metric.ip, .cos])
    func similarityCentroidsAreUnitLength(_ metric: Metric) throws {
        let s = try Scratch()
        let input = try s.sample("siftsmall_query.fvecs")
        expectSuccess(try s.run("ann-kmeans", ["-k", "8", "--metric", metric.rawValue, "-o", s.output("c.annv"), input]))
        let r = try VectorReader(path: s.output("c.annv"))
        #expect(r.metric == metric)
        let c = try r.readAll()
        for i in 0..<8 {
            let norm = c.row(i, 128).reduce(0.0) { $0 + Double($1) * Double($1) }
            #expect(abs(norm - 1) < 1e-4)
        }
    }
}
