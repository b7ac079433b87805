import ANNCommands
import ANNKit
import ArgumentParser
import Testing

/// ann-train's options of one router kind are refused under another, with one usage line,
/// rather than silently ignored; and its help states each default from the one place that
/// defines it.
@Suite struct TrainKindOptionTests {
    static let required = ["--gt", "gt.annn", "--index", "i.anni", "-o", "m.annm"]

    @Test(arguments: [
        // pq is the default kind.
        (["--precision", "float32"], "--precision and --point-lr are for --router kernel"),
        (["--point-lr", "0.2"], "--precision and --point-lr are for --router kernel"),
        (["--router", "mlp", "--precision", "float16"], "--precision and --point-lr are for --router kernel"),
        (["--router", "residual", "--point-lr", "0"], "--precision and --point-lr are for --router kernel"),
        (["--weight-decay", "0"], "--weight-decay is for --router mlp and residual"),
        (["--router", "kernel", "--weight-decay", "0.001"], "--weight-decay is for --router mlp and residual"),
        (["--batch", "512"], "--batch and --noise are for --router kernel, mlp and residual"),
        (["--router", "pq", "--noise", "0.1"], "--batch and --noise are for --router kernel, mlp and residual"),
        (["--router", "kernel", "--init", "m0.annm", "--hidden", "8"], "--hidden is for --router mlp and residual"),
        (["--router", "mlp", "--init", "m0.annm", "--candidates", "8"], "--points and --candidates are for --router kernel"),
        // Continuing a model is never a PQ router's training, whatever the model turns out to be.
        (["--init", "m0.annm", "--coded-share", "0.5"], "--coded-share is for a new --router pq"),
        (["--init", "m0.annm", "--rotation", "opq"], "--rotation is for a new --router pq"),
    ])
    func refusesAnotherKindsOption(_ extra: [String], _ message: String) {
        expectRejected(TrainCommand.self, Self.required + extra, mentioning: [message])
    }

    @Test(arguments: [
        ["--router", "kernel", "--precision", "float32", "--point-lr", "0", "--batch", "64", "--noise", "0.1"],
        ["--router", "mlp", "--weight-decay", "0", "--batch", "64", "--noise", "0"],
        ["--router", "residual", "--hidden", "16", "--weight-decay", "0.01"],
        ["--router", "pq", "--calibration", "temperature", "--coded-share", "0.5", "--rotation", "none", "--epochs", "3", "--lr", "0.02"],
        // With --init and no --router the kind is the model's, checked once the model is read.
        ["--init", "m0.annm", "--precision", "float32", "--weight-decay", "0", "--batch", "8"],
    ])
    func acceptsTheKindsOwnOptions(_ extra: [String]) {
        expectAccepted(TrainCommand.self, Self.required + extra)
    }

    /// Every kind-specific setting belongs to some kinds and not to others.
    @Test func everySettingExcludesSomeKind() {
        for s in TrainingSetting.allCases {
            #expect(!s.kinds.isEmpty && s.kinds.count < RouterKind.allCases.count, "\(s)")
        }
        var plan = TrainingPlan(seed: 1)
        #expect(plan.unused(by: .pq).isEmpty)
        plan.batch = 8
        plan.hidden = 4
        #expect(plan.unused(by: .pq) == [.hidden, .batch])
        #expect(plan.unused(by: .kernel) == [.hidden])
        #expect(plan.unused(by: .mlp).isEmpty)
    }

    @Test func helpStatesTheLibrarysDefaults() {
        let help = TrainCommand.helpMessage(columns: 10_000)
        #expect(help.contains("(default: pq \(PQRouterParameters.defaultEpochs), kernel \(KernelTrainingParameters().epochs), MLP \(RouterTrainingParameters().epochs))"))
        #expect(help.contains("(default: pq 0.01, kernel 0.01, MLP 0.001)"))
        #expect(help.contains("(default: kernel 0, MLP 0.05)"))
        #expect(help.contains("default \(TrainingPlan.defaultCandidates), with --init the model's"))
        #expect(help.contains("up to \(MemoryFit.widestMLP) that fits --memory"))
        #expect(help.contains("queries per step (default 1024)"))
        #expect(help.contains("(default 0.0001)"))
        #expect(help.contains("default float16"))
    }
}
