import ANNKit
import Foundation

extension TrainCommand {
    /// Trains the PQ router of `p` (codes, then the calibration) and writes it.
    func trainPQ(index idx: PackedIndex, parameters p: PQRouterParameters, train: RouterExamples, held: RouterExamples, budget: Int,
                 out: OutputFile, say: Reporter) throws {
        let entries = idx.entries.reduce(0) { $0 + $1.vectors }
        let which = p.coded == entries ? "all \(entries) stored vectors" : "the \(p.coded) of \(entries) stored vectors nearest a cluster boundary"
        say.info("\(p.m)-byte codes (\(p.m) subspaces) of \(which); \(p.lists) clusters and \(p.candidates) candidates scored per query")
        let router = try PQRouterTrainer.train(idx, train: train, held: held, parameters: p) { event in
            switch event {
            case .encoded(let c, let k): say.progress("clusters encoded", done: c, total: k)
            case .codebooks(let s, let n):
                say.clearProgress()
                say.info("codebooks learnt and \(n) vectors chosen and encoded in \(seconds(s))")
            case .evidence(let t, let h, let s):
                say.info("\(t) training and \(h) held-out queries examined in \(seconds(s)) (those whose neighbour lies in a scored cluster)")
            case .temperature(let t, let loss): say.info("temperature fitted: T = \(String(format: "%.4g", t)); \(held.count > 0 ? "held-out" : "training") loss \(fmt4(loss))")
            case .epoch(let e, let of, let loss, let v):
                say.progress("epoch", done: e, total: of)
                say.info(e == 0 ? "epoch 0 (start): loss \(fmt4(v))" : "epoch \(e)/\(of): loss \(fmt4(loss)); \(held.count > 0 ? "held-out" : "training") loss \(fmt4(v))")
            }
        }
        say.clearProgress()
        let f = router.footprint
        say.info("router memory \(MemoryFit.megabytes(f)), \(String(format: "%.2f", Double(f) / Double(max(1, idx.baseCount)))) B per base vector (budget \(MemoryFit.megabytes(budget)))")
        try router.write(to: out)
        try out.commit()
    }
}
