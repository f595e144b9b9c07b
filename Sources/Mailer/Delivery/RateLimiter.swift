import Foundation
import Synchronization

/// Spaces messages out to at most `perSecond`, across every worker.
final class RateLimiter: Sendable {
    private let interval: TimeInterval
    private let nextSlot = Mutex<TimeInterval>(0)
    private let clock: @Sendable () -> TimeInterval
    private let sleep: @Sendable (TimeInterval) -> Void

    /// - Parameter perSecond: `0` means no limit.
    init(perSecond: Int, clock: @escaping @Sendable () -> TimeInterval = { ProcessInfo.processInfo.systemUptime },
         sleep: @escaping @Sendable (TimeInterval) -> Void = { Thread.sleep(forTimeInterval: $0) }) {
        interval = perSecond > 0 ? 1 / Double(perSecond) : 0
        self.clock = clock
        self.sleep = sleep
    }

    /// Waits for this caller's slot, on the caller's thread (a session's own: it blocks).
    func acquire() {
        guard interval > 0 else { return }
        let wait: TimeInterval = nextSlot.withLock { nextSlot in
            let now = clock()
            let slot = max(now, nextSlot)
            nextSlot = slot + interval
            return slot - now
        }
        if wait > 0 { sleep(wait) }
    }
}
