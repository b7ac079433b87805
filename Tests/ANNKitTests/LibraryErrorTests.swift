// The exit status of each error is the command layer's to decide; these tests, like the
// others here that check it, read it from there.
import ANNCommands
import ANNKit
import Testing

/// The library speaks of settings, never of a tool's options: errors carry what and where, and
/// the command layer names the option (and picks the exit status).
@Suite struct LibraryErrorTests {
    @Test func metricOfARequestIsAUsageError() throws {
        #expect(try Metric.resolve(recorded: nil, requested: nil, source: "c.fvecs") == .l2)
        #expect(try Metric.resolve(recorded: .cos, requested: nil, source: "c.annv") == .cos)
        #expect(try Metric.resolve(recorded: nil, requested: .ip, source: "c.fvecs") == .ip)
        let e = annError { _ = try Metric.resolve(recorded: .ip, requested: .l2, source: "c.annv") }
        #expect(e == .metricMismatch(source: "c.annv", what: nil, recorded: .ip, expected: .l2, against: nil))
        #expect(e?.description == "c.annv was made for metric ip, not l2")
        #expect(e?.toolMessage == "c.annv was made for --metric ip, not l2")
        #expect(e?.exitCode == 64)
    }

    @Test func metricsOfTwoInputsAreBadData() {
        let e = ANNError.metricMismatch(source: "gt.annn", what: "ground truth", recorded: .cos, expected: .l2, against: "the results")
        #expect(e.description == "gt.annn: ground truth for metric cos, the results for l2")
        #expect(e.toolMessage == "gt.annn: ground truth for --metric cos, the results for l2")
        #expect(e.exitCode == 65)
    }

    @Test func anUnnamedFormIsNamedByTheTool() {
        for message in [InputFile.unnamedForm, InputFile.unnamedStdinForm] { #expect(!message.contains("--")) }
        #expect(ANNError.badData(source: "x", message: InputFile.unnamedForm).toolMessage
            == "x: not an ann-tools stream (bad magic) and not named as a foreign form; name it with --from fvecs|bvecs|ivecs|fbin|u8bin|ibin")
        #expect(ANNError.badData(source: "<stdin>", message: InputFile.unnamedStdinForm).toolMessage
            == "<stdin>: not an ann-tools stream; name the form of stdin with --from fvecs|bvecs|ivecs|fbin|u8bin|ibin")
        #expect(ANNError.badData(source: "x", message: "truncated").toolMessage == "x: truncated")
    }

    @Test func everyKindHasItsStatus() {
        #expect(ANNError.usage("u").exitCode == 64)
        #expect(ANNError.badData(source: "s", message: "m").exitCode == 65)
        #expect(ANNError.missingInput(source: "s", message: "m").exitCode == 66)
        #expect(ANNError.cantCreate(target: "t", message: "m").exitCode == 73)
        #expect(ANNError.io(target: "t", message: "m").exitCode == 74)
        #expect(ANNError.unavailable(target: "t", message: "m").exitCode == 69)
        #expect(ANNError.permission(target: "t", message: "m").exitCode == 77)
        #expect(ANNError.brokenPipe.exitCode == 0)
    }
}
