import ANNKit
import Testing

/// Reading and writing router models in one place: every kind read back and written again
/// gives the same bytes, so that a model passed through the tools (ann-train --init) changes
/// only where training changed it.
@Suite struct ModelIOTests {
    func write(_ router: any ClusterRouter, to path: String) throws {
        let out = try OutputFile(path: path)
        try ModelWriter.write(router, to: out)
        try out.commit()
    }

    /// Writes `router`, reads it back as whatever kind the file says, writes that again.
    func expectRewrittenIdentically(_ router: any ClusterRouter, index: PackedIndex, dir: String,
                                    sourceLocation: SourceLocation = #_sourceLocation) throws {
        try write(router, to: "\(dir)/a.annm")
        let back = try ModelFile(path: "\(dir)/a.annm", for: index).router()
        #expect(type(of: back) == type(of: router), sourceLocation: sourceLocation)
        try write(back, to: "\(dir)/b.annm")
        #expect(try readBytes("\(dir)/a.annm") == readBytes("\(dir)/b.annm"), sourceLocation: sourceLocation)
    }

    @Test func everyKindIsRewrittenIdentically() throws {
        let problem = try RouterProblem.get()
        try withTemporaryDirectory { dir in
            try problem.index.pack(to: "\(dir)/i.anni")
            let index = try PackedIndex(path: "\(dir)/i.anni")
            for weight: Float in [0, 3e-4] {
                var m = problem.model(hidden: 8, centroidWeight: weight, fingerprint: index.fingerprint, seed: 5)
                var rng = RandomGenerator(seed: 6)
                m.b3 = m.b3.map { _ in rng.gaussian() }
                try expectRewrittenIdentically(m, index: index, dir: dir)
            }
            for candidates in [0, 6] {
                var k = try KernelRouterTrainer.initial(for: index, slots: 3, candidates: candidates, seed: 2)
                k.weight = 3e-4
                try expectRewrittenIdentically(k, index: index, dir: dir)
                try expectRewrittenIdentically(k.halved(), index: index, dir: dir)
            }
            for calibration in PQRouter.Calibration.allCases {
                try expectRewrittenIdentically(try PQRouterTests.trained(index, problem, calibration: calibration), index: index, dir: dir)
            }
        }
    }
}
