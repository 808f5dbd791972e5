package mail

// RenderWhole makes c render every message whole, never from precompiled
// parts (layouts and cut bodies): the reference the parts are compared with.
func RenderWhole(c *Composer) { c.whole = true }

// CutBodies is how many bodies c has cut.
func CutBodies(c *Composer) int {
	c.cut.mu.Lock()
	defer c.cut.mu.Unlock()
	return c.cut.cuts
}
