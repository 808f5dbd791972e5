package mail

// RenderLayoutsWhole makes c render every layout whole, never from its
// precompiled parts: the reference the parts are compared with.
func RenderLayoutsWhole(c *Composer) { c.wholeLayout = true }
