import Foundation
import Synchronization
import UnixSignals

/// SIGINT and SIGTERM as a request to stop cleanly: the first calls `onStop` with the signal's number; a
/// second one ends the process at once, by the signal itself (as a crash: the next run settles its letters).
/// A repeat within a second is the same request: `timeout` and a shell's job control send one signal twice,
/// to the process and to its group.
final class StopSignals: Sendable {
    /// The first signal's number, `0` until one comes; shared with the listening task.
    private final class First: Sendable {
        let number = Atomic<Int32>(0)
    }

    /// How long after the first signal another one is taken for the same.
    static let sameRequest: Duration = .seconds(1)

    private let first = First()
    private let listener: Task<Void, Never>

    /// Traps the signals before it returns, then listens for them in a task of its own.
    init(_ onStop: @escaping @Sendable (Int32) -> Void) async {
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        let first = first
        listener = Task {
            let clock = ContinuousClock()
            var firstAt: ContinuousClock.Instant?
            for await signal in signals {
                if first.number.compareExchange(expected: 0, desired: signal.rawValue, ordering: .relaxed).exchanged {
                    firstAt = clock.now
                    onStop(signal.rawValue)
                } else if let firstAt, clock.now - firstAt >= Self.sameRequest {
                    Self.die(by: signal.rawValue)
                }
            }
        }
    }

    deinit { listener.cancel() }

    /// Ends the process by `number`'s default action. The signal is trapped (blocked and read from a
    /// descriptor), so it is unblocked here before it is raised.
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
        let number = first.number.load(ordering: .relaxed)
        return number == 0 ? nil : number
    }

    /// The exit status a shell gives a command ended by that signal.
    var exitCode: Int32? { caught.map { 128 + $0 } }
}
