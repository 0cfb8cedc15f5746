package web_test

import (
	"strconv"
	"time"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func waitABit() { time.Sleep(100 * time.Millisecond) }
