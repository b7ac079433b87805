/// The whole training of a kernel or MLP router, as ann-train runs it: the starting model
/// (continued from a model file, or built and calibrated for the index), then epochs of Adam,
/// keeping the epoch `EpochSelection` picks. Progress and figures go out as events; the
/// caller words them.
public enum LearnedRouterTraining {
    public enum Event: Sendable {
        /// Kernel points placed by k-means in `done` of `of` clusters.
        case placingPoints(done: Int, of: Int)
        /// `points` points in `clusters` clusters (at most `perCluster` each), in `seconds`;
        /// `scored` clusters scored per query.
        case pointsPlaced(points: Int, clusters: Int, perCluster: Int, seconds: Double, scored: Int)
        /// The centroid term (residual MLP) or the kernel calibrated: T, the temperature.
        case calibrated(temperature: Float)
        /// Judged queries whose neighbour lies outside the `scored` clusters the kernel router scores.
        case outsideCandidates(count: Int, of: Int, scored: Int)
        /// The starting point, judged: its loss (the kernel router's measure) and top-1
        /// accuracy; `centroidRouting` when it is a new residual MLP, centroid routing itself.
        case start(loss: Double?, accuracy: Double, centroidRouting: Bool)
        /// One epoch, judged; `temperature` is the kernel's after it.
        case epoch(EpochSelection.Epoch, temperature: Float?)
        /// The epoch kept, by `measure` ("top-1" or "loss"); `startKept` when no epoch beat
        /// the start on held-out queries.
        case kept(epoch: Int, measure: String, value: Double, startKept: Bool)
    }

    /// The MLP, plain or residual (whose last layer starts at zero over the calibrated centroid
    /// term), continued from `start` or new, sized to `budget`. The epoch kept is the one with
    /// the best judged top-1 accuracy.
    public static func mlp(_ kind: RouterKind, start: ModelFile?, index idx: PackedIndex, plan: TrainingPlan, budget: Int,
                           memory: MemoryBudget, train: RouterExamples, held: RouterExamples,
                           events: (Event) -> Void) throws -> RouterModel {
        var model: RouterModel
        if let start {
            model = try RouterModel(file: start)
        } else {
            let norm = RouterTrainer.normalisation(train)
            let hidden = try plan.mlpWidth(index: idx, budget: budget, memory: memory)
            model = RouterModel(dim: idx.dim, clusterCount: idx.clusterCount, hidden1: hidden, hidden2: hidden, metric: idx.metric,
                                centroids: idx.centroids, fingerprint: idx.fingerprint, centroidWeight: kind == .residual ? 1 : 0,
                                mean: norm.mean, scale: norm.scale, seed: plan.seed)
            if kind == .residual {
                model.centroidWeight = RouterTrainer.calibrate(model, on: train)
                events(.calibrated(temperature: 1 / model.centroidWeight))
            }
        }
        let p = plan.mlp()
        let trainer = RouterTrainer(model: model, parameters: p)
        let spread = model.scale.map { 1 / $0 }
        let judge = held.count > 0 ? held : train
        let first = RouterTrainer.evaluate(model, judge).accuracy
        events(.start(loss: nil, accuracy: first, centroidRouting: start == nil && kind == .residual))
        let kept = EpochSelection.run(from: model, value: first, better: >, epochs: p.epochs, heldOut: held.count > 0,
                                      epoch: { trainer.epoch(train, spread: spread) },
                                      judge: {
                                          let v = RouterTrainer.evaluate(trainer.model, judge)
                                          return (trainer.model, v.loss, v.accuracy, v.accuracy)
                                      },
                                      report: { events(.epoch($0, temperature: nil)) })
        events(.kept(epoch: kept.epoch, measure: "top-1", value: kept.value, startKept: kept.startKept))
        return kept.model
    }

    /// The kernel router: points by k-means inside each cluster, w calibrated, then Adam on the
    /// log-weights and w (and the points with a point learning rate). The epoch kept is the one
    /// with the lowest judged loss, which tracks the vectors fetched at a recall better than
    /// top-1 does. Returned in the precision the plan stores points in.
    public static func kernel(start: ModelFile?, index idx: PackedIndex, plan: TrainingPlan, budget: Int, memory: MemoryBudget,
                              train: RouterExamples, held: RouterExamples, events: (Event) -> Void) throws -> KernelRouter {
        var model: KernelRouter
        if let start {
            model = try KernelRouter(file: start)
            if let candidates = plan.candidates { model.candidates = candidates }
        } else {
            let t = Stopwatch()
            let m = try plan.kernelPoints(index: idx, budget: budget, memory: memory)
            model = try KernelRouterTrainer.initial(for: idx, slots: m, candidates: plan.candidates ?? TrainingPlan.defaultCandidates,
                                                    seed: plan.seed) { events(.placingPoints(done: $0, of: idx.clusterCount)) }
            let used = model.logWeights.filter { $0 != KernelRouter.absent }.count
            events(.pointsPlaced(points: used, clusters: idx.clusterCount, perCluster: m, seconds: t.seconds, scored: model.scoredClusters))
            model.weight = KernelRouterTrainer.calibrate(model, on: train)
            events(.calibrated(temperature: 1 / model.weight))
        }
        let p = plan.kernel()
        let trainer = KernelRouterTrainer(model: model, parameters: p)
        let spread = RouterTrainer.normalisation(train).scale.map { 1 / $0 }
        let judge = held.count > 0 ? held : train
        if model.scoredClusters < idx.clusterCount {
            events(.outsideCandidates(count: KernelRouterTrainer.outsideCandidates(model, judge), of: judge.count,
                                      scored: model.scoredClusters))
        }
        let first = KernelRouterTrainer.evaluate(model, judge)
        events(.start(loss: first.loss, accuracy: first.accuracy, centroidRouting: false))
        let kept = EpochSelection.run(from: model, value: first.loss, better: <, epochs: p.epochs, heldOut: held.count > 0,
                                      epoch: { trainer.epoch(train, spread: spread) },
                                      judge: {
                                          let v = KernelRouterTrainer.evaluate(trainer.model, judge)
                                          return (trainer.model, v.loss, v.accuracy, v.loss)
                                      },
                                      report: { events(.epoch($0, temperature: 1 / trainer.model.weight)) })
        events(.kept(epoch: kept.epoch, measure: "loss", value: kept.value, startKept: kept.startKept))
        return plan.pointPrecision == .float16 ? kept.model.halved() : kept.model.widened()
    }
}
