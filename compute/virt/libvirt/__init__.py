"""The libvirt virt driver (``driver.LibvirtDriver``) and its parts: domain XML
(``config``), domain states (``state``), the connection and KVM probe (``host``),
the image cache and qemu-img (``imagecache``), volume connection info
(``volume``), hot-plug (``hotplug``), and what is read from domains (``guest``).

Only ``config`` and ``state`` work without libvirt-python; the loader imports the
driver when ``[compute] compute_driver = libvirt``."""
