/// Which epoch of a router's training is kept. Each epoch is judged on the held-out queries
/// (the training ones when none are held out) by a value that `better` compares, and the best
/// is kept, epoch 0 being the starting point; with nothing held out, the last. A run whose
/// epochs never beat the start keeps the start, and says so.
public enum EpochSelection {
    /// One epoch as it ran: its own figures, and the judged ones after it.
    public struct Epoch: Sendable {
        public var index: Int
        public var of: Int
        /// Training loss and top-1 accuracy over the epoch.
        public var loss: Double
        public var accuracy: Double
        /// Loss and top-1 accuracy on the queries judged (held out, or the training ones).
        public var judgedLoss: Double
        public var judgedAccuracy: Double
        /// The time of the epoch itself, judging left out.
        public var seconds: Double
    }

    /// The epoch kept and its model.
    public struct Kept<Model> {
        public var epoch: Int
        public var value: Double
        public var model: Model
        /// No epoch beat the starting point on held-out queries: the start is kept.
        public var startKept: Bool
    }

    /// Runs `epochs` epochs from `start`, whose judged value is `value`. `epoch` trains one and
    /// gives its loss and accuracy; `judge` then gives the current model and its judged loss,
    /// accuracy and value. `heldOut` says whether queries are held out; `report` gets every
    /// epoch once judged.
    public static func run<Model>(from start: Model, value: Double, better: (Double, Double) -> Bool, epochs: Int, heldOut: Bool,
                                  epoch: () -> (loss: Double, accuracy: Double),
                                  judge: () -> (model: Model, loss: Double, accuracy: Double, value: Double),
                                  report: (Epoch) -> Void) -> Kept<Model> {
        var best = Kept(epoch: 0, value: value, model: start, startKept: false)
        for e in 1...max(1, epochs) where epochs > 0 {
            let t = Stopwatch()
            let r = epoch()
            let secs = t.seconds
            let v = judge()
            report(Epoch(index: e, of: epochs, loss: r.loss, accuracy: r.accuracy, judgedLoss: v.loss, judgedAccuracy: v.accuracy,
                         seconds: secs))
            if !heldOut || better(v.value, best.value) { best = Kept(epoch: e, value: v.value, model: v.model, startKept: false) }
        }
        best.startKept = best.epoch == 0 && epochs > 0 && heldOut
        return best
    }
}
