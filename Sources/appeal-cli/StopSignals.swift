import Dispatch
import Foundation
import Synchronization

/// SIGINT and SIGTERM as a request to stop cleanly: the first calls `onStop` with the signal's number; a
/// second one ends the process at once, by the signal itself (as a crash: the next run settles its letters).
final class StopSignals: Sendable {
    private let received = Atomic<Int32>(0)
    // Dispatch sources are thread-safe; they are only kept here to stay alive while the command runs.
    private nonisolated(unsafe) var sources: [any DispatchSourceSignal] = []

    init(_ onStop: @escaping @Sendable (Int32) -> Void) {
        for number in [SIGINT, SIGTERM] {
            // Ignored by the default handler; delivered to the source instead.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self, source] in
                // Signals that came before the handler ran arrive together: two of them are a second signal.
                let first = received.compareExchange(expected: 0, desired: number, ordering: .relaxed).exchanged
                if first { onStop(number) }
                if !first || source.data > 1 { Self.die(by: number) }
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Ends the process by `number`'s default action. The dispatch library keeps its signals blocked in its
    /// threads and reads them from a descriptor, so the signal is unblocked here before it is raised.
    private static func die(by number: Int32) -> Never {
        signal(number, SIG_DFL)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, number)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        raise(number)
        _exit(128 + number)
    }

    /// The signal that asked to stop, if one came.
    var caught: Int32? {
        let number = received.load(ordering: .relaxed)
        return number == 0 ? nil : number
    }

    /// The exit status a shell gives a command ended by that signal.
    var exitCode: Int32? { caught.map { 128 + $0 } }
}
