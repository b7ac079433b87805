import ANNKit
import ArgumentParser
import Glibc

/// Runs one tool the way every ann-tools filter behaves: a broken pipe is a normal end,
/// Ctrl-C removes partial outputs, and every error is one line `ann-xxx: error: ...` with a
/// sysexits status.
public enum ToolRunner {
    public static func main<C: ParsableCommand>(_ type: C.Type, arguments: [String]? = nil) -> Never {
        let name = C.configuration.commandName ?? "ann-tools"
        signal(SIGPIPE, SIG_IGN)
        let onSignal: @convention(c) (Int32) -> Void = { sig in
            TemporaryFiles.removeAll()
            signal(sig, SIG_DFL)
            raise(sig)
        }
        signal(SIGINT, onSignal)
        signal(SIGTERM, onSignal)
        signal(SIGHUP, onSignal)
        do {
            var command = try C.parseAsRoot(arguments)
            try command.run()
            exit(0)
        } catch let e as ANNError {
            if case .brokenPipe = e { exit(0) }
            fail(name, e.description, e.exitCode)
        } catch {
            let code = C.exitCode(for: error)
            if code == .success {
                let text = C.fullMessage(for: error)
                if !text.isEmpty { print(text) }
                exit(0)
            }
            var message = C.message(for: error)
            if message.hasPrefix("Error: ") { message.removeFirst(7) }
            let first = message.split(separator: "\n").first.map(String.init) ?? message
            fail(name, first.prefix(1).lowercased() + first.dropFirst() + " (see --help)", 64)
        }
    }

    static func fail(_ name: String, _ message: String, _ code: Int32) -> Never {
        TemporaryFiles.removeAll()
        fputs("\(name): error: \(message)\n", stderr)
        exit(code)
    }
}
