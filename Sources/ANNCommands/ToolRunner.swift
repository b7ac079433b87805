import ANNKit
import ArgumentParser
import Foundation
import Glibc

/// Runs one tool the way every ann-tools filter behaves: a broken pipe is a normal end, a
/// signal or a crash removes partial outputs, and every error is one line
/// `ann-xxx: error: ...` with a sysexits status.
public enum ToolRunner {
    /// The signals whose default action ends the process: on each, the registered temporary
    /// files are unlinked and the signal raised again with its default action, so that the
    /// exit status still shows it. Swift runtime traps arrive as SIGILL (x86-64) or SIGTRAP
    /// (arm64), runtime aborts as SIGABRT.
    static let fatalSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGABRT,
                                        SIGSYS, SIGXCPU, SIGXFSZ]

    public static func main<C: ParsableCommand>(_ type: C.Type, arguments: [String]? = nil) -> Never {
        let name = C.configuration.commandName ?? "ann-tools"
        signal(SIGPIPE, SIG_IGN)
        installSignalHandlers()
        var command: any ParsableCommand
        do {
            command = try C.parseAsRoot(arguments)
        } catch {
            end(name, ending(C.self, error: error, parsing: true))
        }
        do {
            try command.run()
            exit(0)
        } catch {
            end(name, ending(C.self, error: error, parsing: false))
        }
    }

    /// What a run that threw `error` prints and exits with. Only ArgumentParser's own errors
    /// (while `parsing`, or a `ValidationError` a command throws) are usage errors; an
    /// `ANNError` has its own status; anything else is this program's fault (70), or 74 when it
    /// is an I/O error from the system. `text` is one line, or the help that was asked for.
    public static func ending<C: ParsableCommand>(_ type: C.Type, error: Error, parsing: Bool) -> (text: String, code: Int32) {
        if let e = error as? ANNError {
            if case .brokenPipe = e { return ("", 0) }
            return (e.toolMessage, e.exitCode)
        }
        if parsing || isArgumentParserError(error) {
            let code = C.exitCode(for: error)
            if code == .success { return (C.fullMessage(for: error), 0) }
            var message = C.message(for: error)
            if message.hasPrefix("Error: ") { message.removeFirst(7) }
            if code == .validationFailure {
                return (firstLine(message).prefix(1).lowercased() + firstLine(message).dropFirst() + " (see --help)", 64)
            }
            if message.isEmpty { return ("", code.rawValue) }
            return ("internal error: \(firstLine(message))", 70)
        }
        if let io = ioErrorText(error) { return ("i/o error: \(firstLine(io))", 74) }
        return ("internal error: \(firstLine(String(describing: error)))", 70)
    }

    /// Whether ArgumentParser made `error`: its public ones (ValidationError, CleanExit,
    /// ExitCode) and the internal ones its help command throws from `run`.
    static func isArgumentParserError(_ error: Error) -> Bool {
        error is ValidationError || error is CleanExit || error is ExitCode
            || String(reflecting: type(of: error)).hasPrefix("ArgumentParser.")
    }

    /// The text of a system I/O error (errno, or a Foundation file error), else nil.
    static func ioErrorText(_ error: Error) -> String? {
        if let e = error as? POSIXError { return String(cString: strerror(e.code.rawValue)) }
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        if ns.domain == NSCocoaErrorDomain && (CocoaError.Code.fileNoSuchFile.rawValue...CocoaError.Code.fileWriteVolumeReadOnly.rawValue).contains(ns.code) {
            if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
                return String(cString: strerror(Int32(underlying.code)))
            }
            return ns.localizedDescription
        }
        return nil
    }

    static func firstLine(_ s: String) -> String {
        let line = s.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? s
        return line.trimmingCharacters(in: .whitespaces)
    }

    /// Prints the ending and exits: help on stdout with 0, an error on stderr otherwise.
    static func end(_ name: String, _ ending: (text: String, code: Int32)) -> Never {
        if ending.code == 0 {
            if !ending.text.isEmpty { print(ending.text) }
            exit(0)
        }
        fail(name, ending.text, ending.code)
    }

    static func fail(_ name: String, _ message: String, _ code: Int32) -> Never {
        TemporaryFiles.process.removeAll()
        if !message.isEmpty { writeStandardError("\(name): error: \(message)\n") }
        exit(code)
    }

    /// Installs the handler of `fatalSignals`, with an alternate stack for the main thread so
    /// that a stack overflow there still runs it, and unblocks them.
    static func installSignalHandlers() {
        // Touched here, so that the handler never runs the table's lazy initialisation.
        _ = TemporaryFiles.process
        let size = 64 << 10
        var stack = stack_t()
        stack.ss_sp = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        stack.ss_size = size
        stack.ss_flags = 0
        sigaltstack(&stack, nil)
        let onSignal: @convention(c) (Int32) -> Void = { sig in
            TemporaryFiles.process.removeAll()
            // SA_RESETHAND has restored the default action; the signal stays blocked until the
            // handler returns, then ends the process (a fault would also recur on return).
            raise(sig)
        }
        for sig in fatalSignals {
            // A signal ignored at start stays ignored (nohup, a background job of a
            // non-interactive shell): the caller asked for the tool to survive it.
            var old = sigaction()
            if sigaction(sig, nil, &old) == 0
                && unsafeBitCast(old.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self) { continue }
            var action = sigaction()
            action.__sigaction_handler.sa_handler = onSignal
            sigemptyset(&action.sa_mask)
            action.sa_flags = Int32(bitPattern: UInt32(SA_RESETHAND) | UInt32(SA_ONSTACK))
            sigaction(sig, &action, nil)
        }
        // A parent may hand over a mask with them blocked (a program that starts the tool from
        // a thread that blocks signals, as Dispatch's workers do); blocked, a SIGTERM would
        // wait forever. Unblocked after the handlers are in place, one already pending is
        // handled at once.
        var handled = sigset_t()
        sigemptyset(&handled)
        for sig in fatalSignals { sigaddset(&handled, sig) }
        pthread_sigmask(SIG_UNBLOCK, &handled, nil)
    }
}
