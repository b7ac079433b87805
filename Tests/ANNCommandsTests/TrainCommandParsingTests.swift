import ANNCommands
import ArgumentParser
import Testing

@Suite struct TrainCommandParsingTests {
    static let required = ["--gt", "gt.annn", "--index", "i.anni", "-o", "m.annm"]

    @Test(arguments: [
        required + ["train.bvecs"],
        required,
        required + ["--init", "m0.annm", "--epochs", "0", "--seed", "7", "--hidden", "8", "--router", "mlp", "--lr", "0.01", "--batch", "1",
                    "--noise", "0", "--weight-decay", "0", "--validation", "0", "--from", "u8bin", "-v", "-"],
        required + ["--router", "residual", "--validation", "0.49", "-q", "train.bvecs.zst"],
        required + ["--router", "kernel", "--points", "32", "--point-lr", "0.01", "--epochs", "3", "train.bvecs"],
        required + ["--router", "kernel", "--points", "1", "--point-lr", "0", "--candidates", "0"],
        required + ["--candidates", "16", "--init", "m0.annm", "--precision", "float32"],
        ["train.fvecs", "--output", "m", "--index", "i.anni", "--gt", "gt.ivecs"],
        required + ["--memory", "8B/vector", "train.bvecs"],
        required + ["--router", "pq", "--calibration", "temperature", "--memory", "12M", "--coded-share", "1"],
        required + ["--rotation", "none"],
        required + ["--router", "pq", "--rotation", "opq", "--calibration", "temperature"],
        required + ["--calibration", "learned", "--epochs", "5", "--lr", "0.001"],
        required + ["--router", "mlp", "--memory", "1G", "--hidden", "64"],
        required + ["--router", "kernel", "--memory", "128B/vector", "--points", "8"],
    ])
    func accepts(_ arguments: [String]) {
        expectAccepted(TrainCommand.self, arguments)
    }

    @Test(arguments: [
        (Array(required.dropFirst(2)), ["--gt"]),
        (["--gt", "g", "-o", "m.annm"], ["--index"]),
        // Membership comes from the index: an assignment can no longer be given beside it.
        (required + ["--assignments", "a.ivecs"], ["--assignments is no longer taken", "membership comes from the index"]),
        (required + ["--shard", "0/2", "train.bvecs"], ["--shard is not taken", "ann-groundtruth --shard"]),
        (required + ["a.bvecs", "b.bvecs"], ["one file of training queries"]),
        (["--index", "i.anni", "-o", "m.annm", "train.bvecs"], ["--gt"]),
        (["--assignments", "a.anna"] + required + ["--init", "m0.annm"], ["--assignments is no longer taken", "membership comes from the index"]),
        (Array(required.dropLast(2)), ["--output"]),
        (required + ["--validation", "0.7"], ["--validation must be in [0, 0.5)"]),
        (required + ["--validation", "0.5"], ["--validation must be in [0, 0.5)"]),
        (required + ["--epochs", "-1"], ["--epochs"]),
        (required + ["--hidden", "0"], ["--hidden must be at least 1"]),
        (required + ["--batch", "0"], ["--batch must be at least 1"]),
        (required + ["--batch", "65537"], ["--batch must be at least 1 and at most 65536"]),
        (required + ["--hidden", "8193"], ["--hidden must be at least 1 and at most 8192"]),
        (required + ["--lr", "0"], ["--lr must be positive"]),
        (required + ["--noise", "nan"], ["--noise must not be negative"]),
        (required + ["--weight-decay=-1"], ["--weight-decay must not be negative"]),
        (required + ["--points", "0"], ["--points must be between 1 and 4096"]),
        (required + ["--point-lr=-0.1"], ["--point-lr must not be negative"]),
        (required + ["--candidates=-1"], ["--candidates must not be negative"]),
        (required + ["--precision", "int8"], ["int8", "--precision"]),
        (required + ["--router", "deep"], ["deep", "--router"]),
        (required + ["--seed", "x"], ["x", "--seed"]),
        (required + ["-q", "-v"], ["--quiet and --verbose"]),
        (required + ["--nprobe", "3"], ["--nprobe"]),
        (required + ["--memory", "0"], ["0", "--memory"]),
        (required + ["--memory", "lots"], ["lots", "--memory"]),
        (required + ["--calibration", "sharp"], ["sharp", "--calibration"]),
        (required + ["--rotation", "pca"], ["pca", "--rotation"]),
        (required + ["--router", "kernel", "--rotation", "none"], ["--calibration, --coded-share and --rotation are for --router pq"]),
        // Options of one router kind are refused under another, not ignored.
        (required + ["--router", "kernel", "--calibration", "learned"], ["--calibration, --coded-share and --rotation are for --router pq"]),
        (required + ["--router", "mlp", "--coded-share", "0.5"], ["--calibration, --coded-share and --rotation are for --router pq"]),
        (required + ["--coded-share", "0"], ["--coded-share must be in (0, 1]"]),
        (required + ["--coded-share", "1.5"], ["--coded-share must be in (0, 1]"]),
        (required + ["--hidden", "8"], ["--hidden is for --router mlp and residual"]),
        (required + ["--router", "pq", "--points", "8"], ["--points and --candidates are for --router kernel"]),
        (required + ["--router", "residual", "--candidates", "8"], ["--points and --candidates are for --router kernel"]),
        (required + ["--router", "pq", "--init", "m0.annm"], ["--init is not taken by --router pq"]),
        (required + ["--init", "m0.annm", "--calibration", "temperature"], ["--calibration is for a new --router pq"]),
    ])
    func rejects(_ arguments: [String], _ words: [String]) {
        expectRejected(TrainCommand.self, arguments, mentioning: words)
    }

    @Test func helpAndVersionAreCleanExits() {
        expectCleanExits(TrainCommand.self)
        #expect(TrainCommand.configuration.commandName == "ann-train")
        #expect(TrainCommand.helpMessage().contains("--validation"))
        #expect(!TrainCommand.helpMessage().contains("--assignments"), "membership comes from the index: the refused option is not offered")
        #expect(RouterKind.allCases.map(\.rawValue) == ["pq", "residual", "mlp", "kernel"])
        #expect(TrainCommand.helpMessage().contains("16B/vector"), "the default budget is shown")
    }
}
