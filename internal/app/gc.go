package app

import (
	"log/slog"

	"github.com/berth-project/berth/internal/config"
	"github.com/berth-project/berth/internal/gc"
	"github.com/berth-project/berth/internal/storage/meta"
)

// newCollector is this replica's online blob garbage collector; every
// replica runs one, and they agree through the metadata store.
// Its passes are counted in m.
func newCollector(db *meta.DB, blobs gc.Deleter, cfg config.Config, log *slog.Logger, m *metrics) *gc.Collector {
	return &gc.Collector{DB: db, Blobs: blobs, Grace: cfg.GCGracePeriod, Interval: cfg.GCInterval, Log: log, OnPass: m.gcPass}
}
