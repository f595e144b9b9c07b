import Appeals
import Foundation

/// The values of one campaign's dashboard page.
struct AdminCampaignPage {
    let campaign: Campaign
    let report: CampaignReport
    let activity: CampaignActivity

    func context(csrf: String) -> [String: Any] {
        let letters = report.letters
        let statuses: [(String, Int)] = [("queued", letters.queued), ("sending", letters.sending), ("sent", letters.sent),
                                         ("deferred", letters.deferred), ("failed", letters.failed), ("cancelled", letters.cancelled),
                                         ("bounced", letters.bounced)]
        let time = ISO8601DateFormatter()
        var context: [String: Any] = [
            "lang": "en", "wide": true, "pageTitle": campaign.title, "title": campaign.title, "slug": campaign.slug, "status": campaign.status.rawValue,
            "supporters": report.supporters, "supportersWithoutEmbassy": report.supportersWithoutEmbassy,
            "pending": activity.pendingConfirmations, "possibleDuplicates": report.possibleDuplicates, "csrf": csrf,
            "canPause": campaign.status == .active, "canOpen": campaign.status == .paused || campaign.status == .draft,
            "statuses": statuses.map { ["name": $0.0, "count": $0.1] },
            "chart": SentChart(series: activity.sentPerHour).svg,
            "targets": report.targets.map { target -> [String: Any] in
                let state = target.removed ? "removed" : target.disabled ? "disabled" + (target.disabledReason.map { ": \($0)" } ?? "") : "enabled"
                return ["name": target.name, "email": target.email, "kind": target.kind, "sent": target.sent, "failed": target.failed,
                        "pending": target.pending, "held": target.held, 
                        "bounced": target.bounces.policy > 0 ? "\(target.bounced) (\(target.bounces.policy) refused by policy)" : "\(target.bounced)", "state": state, "disabled": target.disabled || target.removed]
            },
            "failures": activity.recentFailures.map { failure -> [String: Any] in
                ["at": time.string(from: failure.at), "target": "\(failure.targetName) <\(failure.targetEmail)>", "outcome": failure.outcome,
                 "code": failure.code.map(String.init) ?? "", "reply": failure.reply]
            },
            "hasFailures": !activity.recentFailures.isEmpty,
        ]
        // While letters are going out, the page follows them by itself.
        if activity.inFlight > 0 && campaign.status == .active { context["refreshSeconds"] = 5 }
        return context
    }
}
