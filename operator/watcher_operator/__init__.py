"""JCode Watcher operator: WatcherInstance custom resources reconciled by Kopf."""
