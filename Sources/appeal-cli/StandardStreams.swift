import Appeals
import Foundation
import Synchronization

/// Standard output for every command: buffered, and every write checked. `print` below shadows the standard
/// library's within this module, so that a full disk or a closed pipe under standard output is an error
/// (exit 1) rather than output lost without a word.
enum StandardOutput {
    private struct State {
        var buffer: [UInt8] = []
        /// The first write's `errno`, `0` while none failed.
        var failure: Int32 = 0
    }

    /// Written from the command's task and from progress reports on a sender's thread.
    private static let state = Mutex(State())

    static func write(_ text: String) {
        write(bytes: Array(text.utf8))
    }

    /// Bytes as they are: a stored message printed byte for byte, whatever its charset.
    static func write(bytes: [UInt8]) {
        state.withLock { state in
            state.buffer.append(contentsOf: bytes)
            if state.buffer.count >= 1 << 16 { flush(&state) }
        }
    }

    /// Writes what is buffered; after a failure, nothing more is written.
    static func flush() {
        state.withLock { flush(&$0) }
    }

    private static func flush(_ state: inout State) {
        defer { state.buffer.removeAll(keepingCapacity: true) }
        guard state.failure == 0 else { return }
        if !writeAll(STDOUT_FILENO, state.buffer) { state.failure = errno }
    }

    /// Flushes, and tells the error if any write failed.
    static func finish() -> String? {
        flush()
        let failure = state.withLock { $0.failure }
        return failure == 0 ? nil : String(cString: strerror(failure))
    }

    /// Forgets a failed write, once it has been told: after the message is stored, `bounces ingest -` must
    /// not fail because its output did.
    static func forgetFailure() {
        state.withLock { $0.failure = 0 }
    }

    /// Writes every byte to `descriptor`, retrying interrupted and partial writes.
    static func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Bool {
        var written = 0
        return bytes.withUnsafeBytes { raw in
            while written < raw.count {
                let count = Foundation.write(descriptor, raw.baseAddress! + written, raw.count - written)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { return false }
                written += count
            }
            return true
        }
    }
}

/// The standard library's `print`, through ``StandardOutput``.
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    StandardOutput.write(items.map { "\($0)" }.joined(separator: separator) + terminator)
}

/// Standard error is where a failure is told: writing to it never fails the command (nor crashes it).
func writeStandardError(_ text: String) {
    StandardOutput.flush()
    _ = StandardOutput.writeAll(STDERR_FILENO, Array(text.utf8))
}

/// `text` as a terminal may show it: text from outside (a received message's subject, a server's reply) with its
/// control characters, line ends included, shown as `�`.
func terminalSafe(_ text: String) -> String {
    MailText.printable(text, keepingLineEnds: false)
}
