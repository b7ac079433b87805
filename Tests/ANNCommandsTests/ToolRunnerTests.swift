import ANNCommands
import ANNKit
import ArgumentParser
import Foundation
import Testing

/// How a run ends for each kind of error: only ArgumentParser's own are usage errors (64);
/// the library's keep their status; anything else is an internal error (70) or, from the
/// system's I/O, 74; always one line.
@Suite struct ToolRunnerTests {
    struct Foreign: Error, CustomStringConvertible {
        var description: String { "Something broke\nsecond line" }
    }

    func ending(_ error: Error, parsing: Bool = false) -> (text: String, code: Int32) {
        ToolRunner.ending(EvalCommand.self, error: error, parsing: parsing)
    }

    @Test func parseErrorsAreUsageErrors() {
        do {
            _ = try EvalCommand.parseAsRoot(["score", "--gt", "gt.annn", "--nope"])
            Issue.record("accepted")
        } catch {
            let e = ending(error, parsing: true)
            #expect(e.code == 64)
            #expect(e.text.contains("--nope") && e.text.hasSuffix("(see --help)") && !e.text.contains("\n"), "\(e.text)")
        }
        // A ValidationError thrown while running is still the command refusing the request.
        #expect(ending(ValidationError("-k must be at least 1")) == ("-k must be at least 1 (see --help)", 64))
    }

    /// A tree of subcommands answers --help with ArgumentParser's help command, whose run
    /// throws the clean exit: printed, status 0.
    @Test func helpIsACleanExit() {
        do {
            var command = try EvalCommand.parseAsRoot(["--help"])
            try command.run()
            Issue.record("the help command did not exit")
        } catch {
            let e = ending(error, parsing: false)
            #expect(e.code == 0 && e.text.contains("USAGE"), "\(e)")
        }
    }

    @Test func libraryErrorsKeepTheirStatus() {
        #expect(ending(ANNError.badData(source: "gt.annn", message: "ground truth for --metric ip")) == ("gt.annn: ground truth for --metric ip", 65))
        #expect(ending(ANNError.missingInput(source: "x", message: "no such file")).code == 66)
        #expect(ending(ANNError.brokenPipe).code == 0)
    }

    /// Regression: every error that was not an ANNError was reported as a usage error (64,
    /// "(see --help)"), a full disk in Foundation's writer included.
    @Test func foreignErrorsAreNotUsageErrors() {
        let bug = ending(Foreign())
        #expect(bug == ("internal error: Something broke", 70))
        let posix = ending(POSIXError(.ENOSPC))
        #expect(posix.code == 74 && posix.text == "i/o error: No space left on device", "\(posix)")
        let cocoa = ending(CocoaError(.fileWriteOutOfSpace))
        #expect(cocoa.code == 74 && cocoa.text.hasPrefix("i/o error: ") && !cocoa.text.contains("\n"), "\(cocoa)")
        let nsPosix = ending(NSError(domain: NSPOSIXErrorDomain, code: Int(EIO)))
        #expect(nsPosix == ("i/o error: Input/output error", 74))
        for e in [bug, posix, cocoa, nsPosix] { #expect(!e.text.hasSuffix("(see --help)")) }
    }
}
