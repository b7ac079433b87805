import ANNKit
import Testing

/// Router training on a small real problem: the loss goes down, the calibrated start is the
/// best temperature, and a seed gives the same weights.
@Suite struct RouterTrainerTests {
    static func parameters(seed: UInt64 = 1) -> RouterTrainingParameters {
        var p = RouterTrainingParameters()
        p.batch = 128
        p.learningRate = 2e-3
        p.noise = 0
        p.weightDecay = 0
        p.seed = seed
        return p
    }

    @Test func examplesPairQueriesWithTheClustersOfTheirKey() throws {
        let problem = try RouterProblem.get()
        let ex = problem.examples
        #expect(ex.count == RouterProblem.queryCount && ex.dim == 128)
        for i in stride(from: 0, to: ex.count, by: 97) {
            #expect(ex.positives[i] == problem.index.clustersOf[Int(problem.keys[i])], "query \(i)")
        }
        // Every 10th held out, in order.
        let (train, held) = ex.split(validation: 0.1)
        #expect(train.count == 1800 && held.count == 200)
        #expect(held.positives[0] == ex.positives[9] && Array(held.queries.prefix(128)) == Array(ex.queries[(9 * 128)..<(10 * 128)]))
        let (all, none) = ex.split(validation: 0)
        #expect(all.count == ex.count && none.count == 0)
    }

    /// A plain MLP (no centroid term) learns the problem: the training loss falls well below
    /// where it started, epoch after epoch.
    @Test func mlpLossDecreases() throws {
        let problem = try RouterProblem.get()
        let start = problem.model(hidden: 64, centroidWeight: 0, fingerprint: 0)
        let before = RouterTrainer.evaluate(start, problem.examples)
        let trainer = RouterTrainer(model: start, parameters: Self.parameters())
        let spread = start.scale.map { 1 / $0 }
        let epochs = (0..<4).map { _ in trainer.epoch(problem.examples, spread: spread) }
        let after = RouterTrainer.evaluate(trainer.model, problem.examples)
        #expect(after.loss < before.loss * 0.8, "\(before.loss) -> \(after.loss)")
        #expect(after.accuracy > before.accuracy)
        #expect(epochs.last!.loss < epochs.first!.loss, "\(epochs.map(\.loss))")
    }

    /// The residual model starts from calibrated centroid routing, and training improves on it.
    @Test func residualLossDecreasesFromTheCalibratedStart() throws {
        let problem = try RouterProblem.get()
        var start = problem.model(hidden: 64, centroidWeight: 1, fingerprint: 0)
        start.centroidWeight = RouterTrainer.calibrate(start, on: problem.examples)
        #expect(start.centroidWeight > 0)
        // The calibrated temperature fits better than one four times warmer or colder.
        let calibrated = RouterTrainer.evaluate(start, problem.examples)
        for factor: Float in [4, 0.25] {
            var other = start
            other.centroidWeight *= factor
            #expect(RouterTrainer.evaluate(other, problem.examples).loss > calibrated.loss, "factor \(factor)")
        }
        let trainer = RouterTrainer(model: start, parameters: Self.parameters())
        let spread = start.scale.map { 1 / $0 }
        for _ in 0..<3 { _ = trainer.epoch(problem.examples, spread: spread) }
        let after = RouterTrainer.evaluate(trainer.model, problem.examples)
        #expect(after.loss < calibrated.loss, "\(calibrated.loss) -> \(after.loss)")
    }

    @Test func sameSeedSameWeights() throws {
        let problem = try RouterProblem.get()
        var p = Self.parameters(seed: 9)
        p.noise = 0.05
        let start = problem.model(hidden: 16, centroidWeight: 0, fingerprint: 0)
        let spread = start.scale.map { 1 / $0 }
        func train(_ p: RouterTrainingParameters) -> RouterModel {
            let t = RouterTrainer(model: start, parameters: p)
            _ = t.epoch(problem.examples, spread: spread)
            return t.model
        }
        let a = train(p), b = train(p)
        #expect(a.w1 == b.w1 && a.w2 == b.w2 && a.w3 == b.w3 && a.b3 == b.b3)
        #expect(a.w1 != start.w1)
        p.seed = 10
        #expect(train(p).w1 != a.w1)
    }
}
