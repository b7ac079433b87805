import ANNKit
import Testing

/// ann-pack combines centroids, an assignment and a base only when they belong together: a
/// native assignment names its clustering and base, a foreign one is checked by sample.
@Suite struct AssignmentIdentityCLITests {
    /// The fixture's index (16 clusters), a second 16-cluster run with another seed, and an
    /// assignment of another base (bigann10k, as many vectors as siftsmall) to the fixture's
    /// centroids.
    struct Fixture {
        var index: SiftIndex
        var otherClustering: String
        var otherBase: String
    }

    static func prepare(_ s: Scratch) throws -> Fixture {
        let f = try s.siftIndex(k: 16)
        try s.setup("ann-kmeans", ["-k", "16", "--iters", "8", "--seed", "7", "--assignments", s.path("other.anna"),
                                   "-o", s.path("other.fvecs"), f.base])
        let bigann = try s.sample("bigann10k_base.bvecs")
        try s.setup("ann-kmeans", ["--centroids", f.centroids, "--metric", "l2", "--assignments", s.path("otherbase.anna"), bigann])
        return Fixture(index: f, otherClustering: s.path("other.anna"), otherBase: s.path("otherbase.anna"))
    }

    func pack(_ s: Scratch, _ f: SiftIndex, assignments: String) throws -> RunResult {
        try s.run("ann-pack", ["--metric", "l2", "--centroids", f.centroids, "--assignments", assignments, "-o", "out/i.anni", f.base])
    }

    /// Converts a native assignment to .ivecs with ann-kmeans' own writer, through the library.
    func ivecs(_ native: String, _ s: Scratch, name: String) throws -> String {
        let a = try Assignment.load(native)
        let out = try OutputFile(path: s.path(name))
        try a.write(to: out, format: .ivecs, identity: a.identity!)
        try out.commit()
        return s.path(name)
    }

    @Test func nativeAssignmentOfAnotherClusteringOrBaseIsRefused() throws {
        let s = try Scratch(), x = try Self.prepare(s)
        try expectFailure(try pack(s, x.index, assignments: x.otherClustering), tool: "ann-pack", status: 65,
                          mentioning: ["other.anna", "another clustering"], scratch: s)
        // Same size as siftsmall: only the base fingerprint, checked once the base is read, tells.
        try expectFailure(try pack(s, x.index, assignments: x.otherBase), tool: "ann-pack", status: 65,
                          mentioning: ["otherbase.anna", "another base"], scratch: s)
        // The matching assignment packs: the check refuses only what does not belong.
        expectSuccess(try pack(s, x.index, assignments: x.index.assignments))
    }

    @Test func foreignAssignmentOfAnotherClusteringOrBaseIsRefusedBySample() throws {
        let s = try Scratch(), x = try Self.prepare(s)
        for (native, name) in [(x.otherClustering, "other.ivecs"), (x.otherBase, "otherbase.ivecs")] {
            let path = try ivecs(native, s, name: name)
            try expectFailure(try pack(s, x.index, assignments: path), tool: "ann-pack", status: 65,
                              mentioning: [name, "nearest centroid"], scratch: s)
        }
        expectSuccess(try pack(s, x.index, assignments: try ivecs(x.index.assignments, s, name: "same.ivecs")))
    }
}
