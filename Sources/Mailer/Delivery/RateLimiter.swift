import Appeals
import Foundation
import Synchronization

/// Spaces messages out to at most `perSecond`, across every session of the run, or across every run when the
/// store keeps a shared rate (``DeliveryStore/reserveSendSlot(interval:)``).
final class RateLimiter: Sendable {
    private let interval: TimeInterval
    private let nextSlot = Mutex<TimeInterval>(0)
    /// The store's shared slots; `nil` from it means the run paces itself.
    private let shared: (@Sendable (TimeInterval) throws(AppealsError) -> TimeInterval?)?
    private let clock: @Sendable () -> TimeInterval
    private let sleep: @Sendable (TimeInterval) -> Void

    /// - Parameter perSecond: `0` means no limit.
    init(perSecond: Int, shared: (@Sendable (TimeInterval) throws(AppealsError) -> TimeInterval?)? = nil, clock: @escaping @Sendable () -> TimeInterval = { ProcessInfo.processInfo.systemUptime },
         sleep: @escaping @Sendable (TimeInterval) -> Void = { Thread.sleep(forTimeInterval: $0) }) {
        interval = perSecond > 0 ? 1 / Double(perSecond) : 0
        self.shared = shared
        self.clock = clock
        self.sleep = sleep
    }

    /// Waits for this caller's slot, on the caller's thread (a session's own: it blocks).
    /// - Throws: when the store's shared rate cannot be reached.
    func acquire() throws(AppealsError) {
        guard interval > 0 else { return }
        if let shared, let wait = try shared(interval) {
            if wait > 0 { sleep(wait) }
            return
        }
        let wait: TimeInterval = nextSlot.withLock { nextSlot in
            let now = clock()
            let slot = max(now, nextSlot)
            nextSlot = slot + interval
            return slot - now
        }
        if wait > 0 { sleep(wait) }
    }
}
