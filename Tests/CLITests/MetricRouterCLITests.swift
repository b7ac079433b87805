import ANNKit
import Foundation
import Testing

/// `--metric ip` and `--metric cos` through the learned routers: ann-train, ann-query --model,
/// ann-eval sweep and ann-dup held to the brute force of `MetricData`; and every mixing of
/// metrics refused.
@Suite struct MetricRouterCLITests {
    /// ann-train for the metric (2 epochs of a small network, a kernel router of 4 points per
    /// cluster, or a PQ router, plain or with its rotation), then ann-query --model: exact with every cluster; ann-eval sweep --model:
    /// a curve that rises to 1; ann-dup with the model, packed again: still exact, the model
    /// still valid.
    @Test(arguments: MetricCase.all, ["residual", "kernel", "pq", "pq-opq"])
    func routerTrainedForTheMetric(_ c: MetricCase, _ kind: String) throws {
        let s = try Scratch()
        let data = try MetricData.get(c)
        let f = try s.metricInputs(data)
        let built = try s.metricIndex(c, base: f.base)
        let m = c.metric.rawValue
        try s.setup("ann-groundtruth", ["--base", f.base, "-k", "1", "--metric", m, "-o", s.path("train-gt.annn"), f.train])
        try s.setup("ann-groundtruth", ["--base", f.base, "-k", "10", "--metric", m, "-o", s.path("gt.annn"), f.queries])
        // The training ground truth is the brute force too (checked on a sample of it).
        let trainTruth = try NeighborList.load(s.path("train-gt.annn"))
        #expect(trainTruth.metric == c.metric && trainTruth.count == data.train.count / MetricData.dim)
        let d = MetricData.dim
        let baseNorms = (0..<data.baseCount).map { norm(data.base.row($0, d)) }
        for q in stride(from: 0, to: trainTruth.count, by: 500) {
            let qv = data.train.row(q, d), qn = norm(qv)
            let best = (0..<data.baseCount).map { similarity(c.metric, qv, data.base.row($0, d), qn, baseNorms[$0]) }.max()!
            let got = similarity(c.metric, qv, data.base.row(Int(trainTruth.ids[q]), d), qn, baseNorms[Int(trainTruth.ids[q])])
            let tol = c.metric == .ip && !c.unit ? 1e-6 * qn * baseNorms.max()! : 1e-5
            #expect(abs(got - best) <= tol && abs(Double(trainTruth.distances[q]) - best) <= tol, "training query \(q)")
        }

        let shapes: [String: [String]] = ["kernel": ["--points", "4"], "pq": [], "pq-opq": ["--memory", "1M", "--rotation", "opq"],
                                          "residual": ["--hidden", "32"]]
        let shape = shapes[kind]!
        let router = kind == "pq-opq" ? "pq" : kind
        let r = try s.run("ann-train", ["--router", router, "--epochs", "2"] + shape + ["--index", built.index,
                                        "--gt", s.path("train-gt.annn"), "-o", s.output("m.annm"), f.train])
        RouterCLITests.expectTrained(r)
        let idx = try PackedIndex(path: built.index)
        let file = try ModelFile(path: s.output("m.annm"), for: idx)
        #expect(file.architecture == (kind == "kernel" ? .kernel : router == "pq" ? .pq : .mlp))
        let model = try file.router()
        #expect((model as? PQRouter).map { $0.quantizer.rotated == (kind == "pq-opq") } ?? (router != "pq"))
        #expect(file.metric == c.metric && file.fingerprint == idx.fingerprint && model.clusterCount == 16)

        expectSuccess(try s.run("ann-query", ["--index", built.index, "--model", s.output("m.annm"), "--nprobe", "16",
                                              "-o", s.output("all.annn"), f.queries]))
        expectBruteForce(try NeighborList.load(s.output("all.annn")), data, k: 10, "ann-query --model --nprobe 16")

        expectSuccess(try s.run("ann-eval", ["sweep", "-q", "--index", built.index, "--model", s.output("m.annm"), "--gt", s.path("gt.annn"),
                                             "--nprobe", "1,2,4,8,16", "-o", s.output("c.tsv"), f.queries]))
        let curve = try RecallCurve.parse(String(decoding: try readBytes(s.output("c.tsv")), as: UTF8.self), source: "c.tsv")
        #expect(curve.points.map(\.setting) == ["nprobe=1", "nprobe=2", "nprobe=4", "nprobe=8", "nprobe=16"])
        for (a, b) in zip(curve.points, curve.points.dropFirst()) {
            #expect(a.recall1 <= b.recall1 && a.vectors < b.vectors, "\(a.setting) -> \(b.setting)")
        }
        // One cluster routed by the model beats one fetched blindly (the share of the base).
        #expect(curve.points.first.map { $0.recall1 > $0.vectors / Double(data.baseCount) } == true)
        #expect(curve.points.last.map { $0.recall1 == 1 && $0.recall10 == 1 && $0.vectors == Double(data.baseCount) } == true)

        // ann-dup: the keys copied where the model looks, packed again for the same metric.
        expectSuccess(try s.run("ann-dup", ["--model", s.output("m.annm"), "--index", built.index, "--gt", s.path("train-gt.annn"),
                                            "--fraction", "0.5", "-o", s.output("dup.anna"), f.train]))
        let dup = try Assignment.load(s.output("dup.anna"))
        #expect(dup.pairCount > data.baseCount)
        try s.setup("ann-pack", ["--metric", m, "--centroids", built.centroids, "--assignments", s.output("dup.anna"),
                                 "-o", s.output("dup.anni"), f.base])
        let onDup = try s.run("ann-query", ["--index", s.output("dup.anni"), "--model", s.output("m.annm"), "--nprobe", "16",
                                             "-o", s.output("dup.annn"), f.queries])
        guard router != "pq" else {
            // A PQ router's codes follow the index it was trained for, vector by vector.
            #expect(onDup.status == 65 && onDup.stderr.contains("trained for another index"), "\(onDup.stderr)")
            return
        }
        expectSuccess(onDup)
        expectBruteForce(try NeighborList.load(s.output("dup.annn")), data, k: 10, "ann-query on the duplicated index")
    }

    /// Every mixing of metrics is refused: an index queried with another --metric, centroids
    /// packed for another, a model used with an index of the same centroids and another
    /// metric, and a ground truth for another metric than the results (ann-eval), the index
    /// (ann-eval sweep) or the index a router is trained for (ann-train, ann-dup).
    @Test func mismatchedMetricsAreRefused() throws {
        let s = try Scratch()
        let base = try s.sample("siftsmall_base.fvecs"), queries = try s.sample("siftsmall_query.fvecs")
        let train = try s.sample("bigann10k_base.bvecs")
        try s.setup("ann-kmeans", ["-k", "8", "--iters", "4", "--metric", "ip", "--assignments", s.path("a.anna"), "-o", s.path("c.annv"), base])
        try s.setup("ann-kmeans", ["-k", "8", "--iters", "4", "--metric", "ip", "-o", s.path("c.fvecs"), base])
        // The metric is part of the clustering: the cos index needs an assignment made under cos.
        try s.setup("ann-kmeans", ["--centroids", "c.fvecs", "--metric", "cos", "--assignments", s.path("a-cos.anna"), base])
        try expectFailure(try s.run("ann-pack", ["--metric", "cos", "--centroids", "c.fvecs", "--assignments", "a.anna", "-o", s.output("i.anni"), base]),
                          tool: "ann-pack", status: 65, mentioning: ["a.anna", "another clustering"], scratch: s)
        for m in ["ip", "cos"] {
            try s.setup("ann-pack", ["--metric", m, "--centroids", "c.fvecs", "--assignments", m == "ip" ? "a.anna" : "a-cos.anna",
                                     "-o", s.path("\(m).anni"), base])
            try s.setup("ann-query", ["--index", "\(m).anni", "--nprobe", "8", "-o", s.path("r-\(m).annn"), queries])
        }
        for m in ["l2", "ip", "cos"] {
            try s.setup("ann-groundtruth", ["--base", base, "-k", "10", "--metric", m, "-o", s.path("gt-\(m).annn"), queries])
            try s.setup("ann-groundtruth", ["--base", base, "-k", "1", "--metric", m, "-o", s.path("train-\(m).annn"), train])
        }

        for (index, other) in [("ip", "l2"), ("ip", "cos"), ("cos", "ip"), ("cos", "l2")] {
            try expectFailure(try s.run("ann-query", ["--index", "\(index).anni", "--metric", other, "-o", s.output("r.annn"), queries]),
                              tool: "ann-query", status: 64, mentioning: ["\(index).anni was made for --metric \(index), not \(other)"], scratch: s)
        }
        // Native centroids record their metric.
        try expectFailure(try s.run("ann-pack", ["--metric", "cos", "--centroids", "c.annv", "--assignments", "a.anna", "-o", s.output("i.anni"), base]),
                          tool: "ann-pack", status: 64, mentioning: ["c.annv was made for --metric ip, not cos"], scratch: s)

        for (truth, results) in [("cos", "ip"), ("ip", "cos"), ("l2", "ip")] {
            // Two files that contradict each other: bad data (65), not a wrong request (64).
            try expectFailure(try s.run("ann-eval", ["score", "--gt", "gt-\(truth).annn", "r-\(results).annn"]), tool: "ann-eval", status: 65,
                              mentioning: ["gt-\(truth).annn: ground truth for --metric \(truth), the results for \(results)"], scratch: s)
            try expectFailure(try s.run("ann-eval", ["sweep", "--index", "\(results).anni", "--gt", "gt-\(truth).annn", "-o", s.output("c.tsv"), queries]),
                              tool: "ann-eval", status: 65,
                              mentioning: ["gt-\(truth).annn: ground truth for --metric \(truth), the index \(results).anni for \(results)"], scratch: s)
        }

        // A model for ip.anni: the same centroids packed for cos are another clustering.
        try s.setup("ann-train", ["--router", "residual", "--epochs", "1", "--hidden", "8", "--validation", "0", "--index", "ip.anni",
                                  "--gt", "train-ip.annn", "-o", s.path("ip.annm"), train])
        try expectFailure(try s.run("ann-query", ["--index", "cos.anni", "--model", "ip.annm", "-o", s.output("r.annn"), queries]),
                          tool: "ann-query", status: 65, mentioning: ["ip.annm", "another clustering", "cos.anni"], scratch: s)
        try expectFailure(try s.run("ann-eval", ["sweep", "--index", "cos.anni", "--model", "ip.annm", "--gt", "gt-cos.annn",
                                                 "-o", s.output("c.tsv"), queries]),
                          tool: "ann-eval", status: 65, mentioning: ["ip.annm", "another clustering"], scratch: s)
    }

    /// Regression: ann-train and ann-dup took a training ground truth for another metric than
    /// the index's and learnt, or duplicated for, the wrong neighbours without a word. A native
    /// ground truth records its metric and must be the index's; ids alone record none and are
    /// taken for the index's.
    @Test func trainingGroundTruthOfAnotherMetricIsRefused() throws {
        let s = try Scratch()
        let base = try s.sample("siftsmall_base.fvecs"), train = try s.sample("bigann10k_base.bvecs")
        let built = try s.metricIndex(MetricCase(metric: .ip, unit: false), base: base, k: 8)
        for m in ["l2", "ip", "cos"] {
            try s.setup("ann-groundtruth", ["--base", base, "-k", "1", "--metric", m, "-o", s.path("train-\(m).annn"), train])
        }
        try s.setup("ann-groundtruth", ["--base", base, "-k", "1", "--metric", "ip", "-o", s.path("train-ip.ivecs"), train])
        let common = ["--router", "residual", "--epochs", "1", "--hidden", "8", "--validation", "0", "--index", built.index]
        for other in ["l2", "cos"] {
            try expectFailure(try s.run("ann-train", common + ["--gt", "train-\(other).annn", "-o", s.output("m.annm"), train]), tool: "ann-train",
                              status: 65, mentioning: ["train-\(other).annn: ground truth for --metric \(other), the index \(built.index) for ip"],
                              scratch: s)
        }
        RouterCLITests.expectTrained(try s.run("ann-train", common + ["--gt", "train-ip.ivecs", "-o", s.output("ids.annm"), train]))
        RouterCLITests.expectTrained(try s.run("ann-train", common + ["--gt", "train-ip.annn", "-o", s.output("m.annm"), train]))
        #expect(try readBytes(s.output("ids.annm")) == readBytes(s.output("m.annm")), "the ids alone train the same model")
        try FileManager.default.moveItem(atPath: s.output("m.annm"), toPath: s.path("m.annm"))
        try FileManager.default.removeItem(atPath: s.output("ids.annm"))

        let dup = ["--model", "m.annm", "--index", built.index]
        for other in ["l2", "cos"] {
            try expectFailure(try s.run("ann-dup", dup + ["--gt", "train-\(other).annn", "-o", s.output("a.anna"), train]), tool: "ann-dup",
                              status: 65, mentioning: ["train-\(other).annn: ground truth for --metric \(other)"], scratch: s)
        }
        expectSuccess(try s.run("ann-dup", dup + ["--gt", "train-ip.ivecs", "-o", s.output("a.anna"), train]))
    }
}
