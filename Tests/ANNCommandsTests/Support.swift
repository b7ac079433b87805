import ArgumentParser
import Testing

/// Parsing runs `validate()` too; a rejection must be a usage error (exit status 64) whose
/// message names the rule, so that a test cannot pass on some unrelated parse failure.
func expectRejected<C: ParsableCommand>(_ type: C.Type, _ arguments: [String], mentioning words: [String],
                                        sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        _ = try C.parse(arguments)
        Issue.record("\(arguments) was accepted", sourceLocation: sourceLocation)
    } catch {
        #expect(C.exitCode(for: error) == .validationFailure, "\(arguments)", sourceLocation: sourceLocation)
        #expect(C.exitCode(for: error).rawValue == 64, sourceLocation: sourceLocation)
        let message = C.message(for: error)
        for word in words {
            #expect(message.contains(word), "\(arguments): \(message)", sourceLocation: sourceLocation)
        }
    }
}

/// `expectRejected` for a command with subcommands: the arguments are parsed from the root,
/// so a rejection by any subcommand counts.
func expectRootRejected<C: ParsableCommand>(_ type: C.Type, _ arguments: [String], mentioning words: [String],
                                            sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        let command = try C.parseAsRoot(arguments)
        Issue.record("\(arguments) was accepted as \(Swift.type(of: command))", sourceLocation: sourceLocation)
    } catch {
        #expect(C.exitCode(for: error).rawValue == 64, "\(arguments)", sourceLocation: sourceLocation)
        let message = C.message(for: error)
        for word in words { #expect(message.contains(word), "\(arguments): \(message)", sourceLocation: sourceLocation) }
    }
}

func expectAccepted<C: ParsableCommand>(_ type: C.Type, _ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(throws: Never.self, "\(arguments)", sourceLocation: sourceLocation) { _ = try C.parse(arguments) }
}

/// --help, -h and --version end parsing with a clean exit (status 0), not a usage error.
func expectCleanExits<C: ParsableCommand>(_ type: C.Type, sourceLocation: SourceLocation = #_sourceLocation) {
    for flag in ["--help", "-h", "--version"] {
        do {
            _ = try C.parse([flag])
            Issue.record("\(flag) parsed as a command", sourceLocation: sourceLocation)
        } catch {
            #expect(C.exitCode(for: error) == .success, "\(flag)", sourceLocation: sourceLocation)
        }
    }
}
