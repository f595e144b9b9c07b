import Appeals
import Foundation
import Logging
import ServiceLifecycle

/// `send --watch`: a sender that keeps running, as a service of a `ServiceGroup` (beside a web server, or
/// alone under systemd). It sends letters as they become due (queued by another process, a deferred retry
/// coming due, sending hours opening, a campaign opened), sleeping in between until the next retry is due or
/// for `pollInterval`, whichever comes first. A graceful shutdown halts the run in progress: letters on the
/// wire finish and are recorded, the others go back to the queue.
public struct SendService: Service {
    let dispatcher: Dispatcher
    let options: SendOptions
    let pollInterval: Duration
    let logger: Logger
    /// After a run that stopped because the server is unreachable or refuses us, the wait before trying again.
    let pauseAfterStop: Duration

    public init(dispatcher: Dispatcher, options: SendOptions, pollInterval: Duration, pauseAfterStop: Duration = .seconds(60), logger: Logger) {
        self.dispatcher = dispatcher
        self.options = options
        self.pollInterval = pollInterval
        self.pauseAfterStop = max(pollInterval, pauseAfterStop)
        self.logger = logger
    }

    /// Runs until a graceful shutdown or cancellation.
    /// - Throws: ``AppealsError`` when the database fails: the service ends, for its supervisor to restart it.
    public func run() async throws {
        logger.info("send --watch started", metadata: ["campaign": "\(options.campaign ?? "every active campaign")",
                                                       "pollSeconds": "\(pollInterval.components.seconds)"])
        var totals = SendSummary()
        var lastLogged = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let summary = try await cancelWhenGracefulShutdown { try await dispatcher.run(options) }
            totals.sent += summary.sent
            totals.deferred += summary.deferred
            totals.failed += summary.failed
            totals.possibleDuplicates += summary.possibleDuplicates
            if summary.attempted > 0 || summary.possibleDuplicates > 0 {
                logger.info("run done", metadata: [
                    "sent": "\(summary.sent)", "deferred": "\(summary.deferred)", "failed": "\(summary.failed)",
                    "possibleDuplicates": "\(summary.possibleDuplicates)", "totalSent": "\(totals.sent)",
                ])
            }
            if totals.sent / 1000 > lastLogged / 1000 {
                logger.notice("\(totals.sent) letters sent since the service started")
            }
            lastLogged = totals.sent
            for email in summary.disabledTargets { logger.warning("target disabled: its mailbox does not exist", metadata: ["target": "\(email)"]) }
            if summary.interrupted { break }
            var pause = pollInterval
            if let reason = summary.stopped {
                logger.error("sending stopped; trying again later", metadata: ["reason": "\(reason)", "retryInSeconds": "\(pauseAfterStop.components.seconds)"])
                pause = pauseAfterStop
            } else if let next = summary.waiting.nextRetry {
                let untilRetry = next.timeIntervalSinceNow
                if untilRetry < Double(pollInterval.components.seconds) {
                    pause = .milliseconds(max(200, Int64(untilRetry * 1000)))
                }
            }
            if summary.waiting.backingOff > 0 || summary.waiting.outsideHoursOrLimit > 0 {
                logger.debug("letters waiting", metadata: ["backingOff": "\(summary.waiting.backingOff)",
                                                          "outsideSendingHoursOrLimit": "\(summary.waiting.outsideHoursOrLimit)"])
            }
            let sleep = pause
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: sleep) }
        }
        logger.info("send --watch stopped", metadata: ["sent": "\(totals.sent)", "deferred": "\(totals.deferred)", "failed": "\(totals.failed)",
                                                       "possibleDuplicates": "\(totals.possibleDuplicates)"])
    }
}
