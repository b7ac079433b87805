import ANNKit
import Foundation

/// Everything a tool says besides its output: -v messages, and a progress line redrawn a few
/// times a second, only when stderr is a terminal and -q was not given.
public final class Reporter {
    let tool: String
    let verbose: Bool
    let showProgress: Bool
    private var lastDraw: ContinuousClock.Instant?
    private var drawn = false

    public init(tool: String, verbosity: VerbosityOptions) {
        self.tool = tool
        verbose = verbosity.verbose
        showProgress = !verbosity.quiet && isatty(STDERR_FILENO) != 0
    }

    /// A -v message.
    public func info(_ message: @autoclosure () -> String) {
        guard verbose else { return }
        clearProgress()
        writeStandardError("\(tool): \(message())\n")
    }

    /// Redraws the progress line, at most five times a second.
    public func progress(_ label: String, done: Int, total: Int?) {
        guard showProgress else { return }
        let t = ContinuousClock.now
        if let lastDraw, t - lastDraw < .milliseconds(200) { return }
        lastDraw = t
        var line = "\(tool): \(label) \(done)"
        if let total, total > 0 { line += "/\(total) (\(done * 100 / total)%)" }
        writeStandardError("\r\u{1B}[K\(line)")
        drawn = true
    }

    public func clearProgress() {
        guard drawn else { return }
        writeStandardError("\r\u{1B}[K")
        drawn = false
    }
}

/// Formats a number of seconds for messages.
func seconds(_ s: Double) -> String { String(format: "%.2f s", s) }
