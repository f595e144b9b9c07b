import Foundation

/// Spaces messages out to at most `perSecond`, across every worker.
final class RateLimiter: @unchecked Sendable {
    private let interval: TimeInterval
    private let lock = NSLock()
    private var nextSlot: TimeInterval = 0
    private let clock: @Sendable () -> TimeInterval
    private let sleep: @Sendable (TimeInterval) -> Void

    /// - Parameter perSecond: `0` means no limit.
    init(perSecond: Int, clock: @escaping @Sendable () -> TimeInterval = { ProcessInfo.processInfo.systemUptime },
         sleep: @escaping @Sendable (TimeInterval) -> Void = { Thread.sleep(forTimeInterval: $0) }) {
        interval = perSecond > 0 ? 1 / Double(perSecond) : 0
        self.clock = clock
        self.sleep = sleep
    }

    /// Waits for this caller's slot.
    func acquire() {
        guard interval > 0 else { return }
        let wait: TimeInterval = lock.withLock {
            let now = clock()
            let slot = max(now, nextSlot)
            nextSlot = slot + interval
            return slot - now
        }
        if wait > 0 { sleep(wait) }
    }
}
